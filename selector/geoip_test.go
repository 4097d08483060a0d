package selector_test

import (
	"path/filepath"
	"testing"

	"github.com/turnkit/turnkit/internal/geotest"
	"github.com/turnkit/turnkit/selector"
)

func openCityDB(t testing.TB) *selector.GeoIP {
	t.Helper()
	g, err := selector.OpenGeoIP(geotest.BuildCityDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func TestGeoIPLocate(t *testing.T) {
	g := openCityDB(t)
	for _, tc := range []struct {
		ip      string
		country string
		found   bool
	}{
		{"81.0.1.2", "DE", true}, {"::ffff:81.0.1.2", "DE", true}, {"3.0.200.1", "US", true},
		{"2a00:1450::1", "DE", true}, {"10.0.0.1", "", false}, {"127.0.0.1", "", false}, {"9.9.9.9", "", false},
	} {
		loc, ok := g.Locate(mustAddr(tc.ip))
		if ok != tc.found || loc.Country != tc.country {
			t.Errorf("Locate(%s) = %+v, %v; want %s, %v", tc.ip, loc, ok, tc.country, tc.found)
		}
	}
	if _, err := selector.OpenGeoIP(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("OpenGeoIP of a missing file succeeded")
	}
}

func TestDistanceKm(t *testing.T) {
	fra := selector.Location{Lat: 50.11, Lon: 8.68}
	iad := selector.Location{Lat: 38.95, Lon: -77.45}
	if d := selector.DistanceKm(fra, iad); d < 6400 || d > 6600 {
		t.Fatalf("Frankfurt–Virginia %f km, want about 6500", d)
	}
	if d := selector.DistanceKm(fra, fra); d != 0 {
		t.Fatalf("distance to itself %f", d)
	}
}
