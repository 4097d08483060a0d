package selector_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/turnkit/turnkit/selector"
)

// openCityDB opens a fresh test City database, closed at the end of the
// test.
func openCityDB(t testing.TB) *selector.GeoIP {
	t.Helper()
	g, err := selector.OpenGeoIP(writeMMDB(t, "GeoIP2-City", cityNets))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	return g
}

func TestGeoIPLocate(t *testing.T) {
	g := openCityDB(t)
	cases := []struct {
		name   string
		ip     netip.Addr
		want   selector.Location
		wantOK bool
	}{
		{"Frankfurt", netip.MustParseAddr(ipFrankfurt), selector.Location{Lat: 50.11, Lon: 8.68, Country: "DE"}, true},
		{"Virginia", netip.MustParseAddr(ipVirginia), selector.Location{Lat: 38.95, Lon: -77.45, Country: "US"}, true},
		{"Sydney", netip.MustParseAddr(ipSydney), selector.Location{Lat: -33.87, Lon: 151.21, Country: "AU"}, true},
		{"IPv4-mapped IPv6 looked up as IPv4", netip.MustParseAddr("::ffff:" + ipSingapore), selector.Location{Lat: 1.35, Lon: 103.82, Country: "SG"}, true},
		{"IPv6", netip.MustParseAddr(ipFrankfurtV6), selector.Location{Lat: 50.11, Lon: 8.68, Country: "DE"}, true},
		{"IPv6 with a zone", netip.MustParseAddr(ipFrankfurtV6 + "%eth0"), selector.Location{Lat: 50.11, Lon: 8.68, Country: "DE"}, true},
		{"not in the database", netip.MustParseAddr(ipUncovered), selector.Location{}, false},
		{"record without coordinates", netip.MustParseAddr(ipCountryOnly), selector.Location{}, false},
		{"record with a latitude only", netip.MustParseAddr(ipLatOnly), selector.Location{}, false},
		{"record off the globe", netip.MustParseAddr(ipOffGlobe), selector.Location{}, false},
		{"private, though in the database", netip.MustParseAddr(ipPrivate), selector.Location{}, false},
		{"private, IPv4-mapped", netip.MustParseAddr("::ffff:" + ipPrivate), selector.Location{}, false},
		{"unique local IPv6", netip.MustParseAddr("fd00::1"), selector.Location{}, false},
		{"loopback", netip.MustParseAddr("127.0.0.1"), selector.Location{}, false},
		{"IPv6 loopback", netip.IPv6Loopback(), selector.Location{}, false},
		{"link-local", netip.MustParseAddr("169.254.169.254"), selector.Location{}, false},
		{"multicast", netip.MustParseAddr("224.0.0.1"), selector.Location{}, false},
		{"unspecified", netip.IPv4Unspecified(), selector.Location{}, false},
		{"zero Addr", netip.Addr{}, selector.Location{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := g.Locate(tc.ip)
			if ok != tc.wantOK || got != tc.want {
				t.Fatalf("Locate(%v) = %+v, %v; want %+v, %v", tc.ip, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestOpenGeoIPRefuses(t *testing.T) {
	dir := t.TempDir()
	notMMDB := filepath.Join(dir, "not.mmdb")
	if err := os.WriteFile(notMMDB, []byte("not a MaxMind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	country := []testNet{{"198.51.100.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("US")}}}}
	asn := []testNet{{"198.51.100.0/24", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500)}}}
	cases := []struct {
		name, path, wantInErr string
	}{
		{"missing file", filepath.Join(dir, "missing.mmdb"), "missing.mmdb"},
		{"not a database", notMMDB, "not.mmdb"},
		{"unknown type", writeMMDB(t, "Acme-Places", cityNets), "Acme-Places"},
		{"Country database", writeMMDB(t, "GeoLite2-Country", country), "use a City database"},
		{"ASN database", writeMMDB(t, "GeoLite2-ASN", asn), "use a City database"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := selector.OpenGeoIP(tc.path)
			if err == nil {
				_ = g.Close()
				t.Fatalf("OpenGeoIP(%s) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.wantInErr) {
				t.Fatalf("error %q does not mention %q", err, tc.wantInErr)
			}
		})
	}
}

func TestGeoIPAcceptsCityTypes(t *testing.T) {
	for _, typ := range []string{"GeoLite2-City", "GeoIP2-City", "GeoIP2-Enterprise", "DBIP-City-Lite"} {
		t.Run(typ, func(t *testing.T) {
			g, err := selector.OpenGeoIP(writeMMDB(t, typ, cityNets))
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if _, ok := g.Locate(netip.MustParseAddr(ipVirginia)); !ok {
				t.Fatal("Virginia not found")
			}
		})
	}
}

// TestGeoIPConcurrent runs lookups from many goroutines, for the race
// detector.
func TestGeoIPConcurrent(t *testing.T) {
	g := openCityDB(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if loc, ok := g.Locate(netip.MustParseAddr(ipSingapore)); !ok || loc.Country != "SG" {
					t.Errorf("Locate = %+v, %v", loc, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestGeoIPLocateAfterClose(t *testing.T) {
	g, err := selector.OpenGeoIP(writeMMDB(t, "GeoIP2-City", cityNets))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if loc, ok := g.Locate(netip.MustParseAddr(ipVirginia)); ok {
		t.Fatalf("Locate after Close = %+v, true", loc)
	}
}
