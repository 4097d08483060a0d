package selector_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// testNet is a network of a test database and the record it maps to.
type testNet struct {
	cidr   string
	record mmdbtype.Map
}

// placed is a City record at lat, lon in country.
func placed(lat, lon float64, country string) mmdbtype.Map {
	return mmdbtype.Map{
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon)},
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String(country)},
	}
}

// Client addresses of the test City database. All networks are
// documentation, benchmarking or private ranges: they are only database
// keys, and no traffic is sent to them.
const (
	ipFrankfurt   = "192.0.2.9"
	ipAmsterdam   = "192.0.2.200"
	ipVirginia    = "198.51.100.9"
	ipSingapore   = "203.0.113.9"
	ipSydney      = "203.0.113.200"
	ipFrankfurtV6 = "2001:db8:de::9"
	ipCountryOnly = "198.18.0.9"   // a record with a country and no coordinates
	ipLatOnly     = "198.18.1.9"   // a record with a latitude only
	ipOffGlobe    = "198.18.2.9"   // a record with a latitude of 123°
	ipPrivate     = "10.1.2.3"     // in the database (in Sydney), but private: never looked up
	ipUncovered   = "198.19.255.9" // not in the database
)

// cityNets are the networks of the test City database.
var cityNets = []testNet{
	{"192.0.2.0/25", placed(50.11, 8.68, "DE")},        // Frankfurt
	{"192.0.2.128/25", placed(52.37, 4.90, "NL")},      // Amsterdam
	{"198.51.100.0/24", placed(38.95, -77.45, "US")},   // Virginia
	{"203.0.113.0/25", placed(1.35, 103.82, "SG")},     // Singapore
	{"203.0.113.128/25", placed(-33.87, 151.21, "AU")}, // Sydney
	{"2001:db8:de::/48", placed(50.11, 8.68, "DE")},    // Frankfurt, IPv6
	{"198.18.0.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("FR")}}},
	{"198.18.1.0/24", mmdbtype.Map{"location": mmdbtype.Map{"latitude": mmdbtype.Float64(48.85)}}},
	{"198.18.2.0/24", placed(123, 8.68, "DE")},
	{"10.0.0.0/8", placed(-33.87, 151.21, "AU")},
}

// writeMMDB writes a database of type dbType with nets into the test's
// temporary directory and returns its path. IPv4 is not aliased into the
// IPv6 tree, so an IPv4-mapped address is found only if the reader unmaps
// it.
func writeMMDB(t testing.TB, dbType string, nets []testNet) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		RecordSize:              28,
		IncludeReservedNetworks: true,
		DisableIPv4Aliasing:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		_, network, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, n.record); err != nil {
			t.Fatalf("insert %s: %v", n.cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
