// Package geotest builds a small GeoIP2 City database for tests, so the
// real GeoIP code path runs without a MaxMind download.
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// City is a test network placed in a city. The ranges are only database
// keys: no traffic goes to them.
type City struct {
	Network  string
	Lat, Lon float64
	Country  string
}

// Cities are the networks BuildCityDB writes.
var Cities = []City{
	{"81.0.0.0/16", 50.11, 8.68, "DE"},     // Frankfurt
	{"82.0.0.0/16", 52.37, 4.90, "NL"},     // Amsterdam
	{"3.0.0.0/16", 38.95, -77.45, "US"},    // Virginia
	{"13.0.0.0/16", 1.35, 103.82, "SG"},    // Singapore
	{"1.128.0.0/16", -33.87, 151.21, "AU"}, // Sydney
	{"2a00:1450::/32", 50.11, 8.68, "DE"},  // Frankfurt, IPv6
}

// BuildCityDB writes a GeoIP2-City database of Cities into the test's
// temporary directory and returns its path.
func BuildCityDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Cities {
		_, network, err := net.ParseCIDR(c.Network)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(c.Lat), "longitude": mmdbtype.Float64(c.Lon)},
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(c.Country)},
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
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
