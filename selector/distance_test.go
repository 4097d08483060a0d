package selector_test

import (
	"math"
	"testing"

	"github.com/turnkit/turnkit/selector"
)

var (
	frankfurt = selector.Location{Lat: 50.11, Lon: 8.68}
	amsterdam = selector.Location{Lat: 52.37, Lon: 4.90}
	virginia  = selector.Location{Lat: 38.95, Lon: -77.45}
	singapore = selector.Location{Lat: 1.35, Lon: 103.82}
	sydney    = selector.Location{Lat: -33.87, Lon: 151.21}
)

func TestDistanceKm(t *testing.T) {
	halfCircumference := math.Pi * 6371.0088
	cases := []struct {
		name      string
		a, b      selector.Location
		want      float64
		tolerance float64
	}{
		{"same point", frankfurt, frankfurt, 0, 0},
		{"Frankfurt–Amsterdam", frankfurt, amsterdam, 364, 5},
		{"Frankfurt–Virginia", frankfurt, virginia, 6520, 40},
		{"Singapore–Sydney", singapore, sydney, 6300, 40},
		{"across the antimeridian", selector.Location{Lat: 0, Lon: 179.5}, selector.Location{Lat: 0, Lon: -179.5}, 111.2, 0.5},
		{"pole to pole", selector.Location{Lat: 90}, selector.Location{Lat: -90}, halfCircumference, 1e-6},
		{"antipodes", selector.Location{Lat: 10, Lon: 20}, selector.Location{Lat: -10, Lon: -160}, halfCircumference, 1e-6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := selector.DistanceKm(tc.a, tc.b)
			if math.Abs(d-tc.want) > tc.tolerance {
				t.Fatalf("DistanceKm = %.3f km, want %.3f ± %.3f", d, tc.want, tc.tolerance)
			}
			if back := selector.DistanceKm(tc.b, tc.a); math.Abs(back-d) > 1e-9 {
				t.Fatalf("not symmetric: %.9f and %.9f", d, back)
			}
		})
	}
}

func TestLocationValid(t *testing.T) {
	cases := []struct {
		name string
		loc  selector.Location
		want bool
	}{
		{"zero", selector.Location{}, true},
		{"corners", selector.Location{Lat: -90, Lon: 180}, true},
		{"latitude over 90", selector.Location{Lat: 90.5}, false},
		{"longitude under -180", selector.Location{Lon: -181}, false},
		{"NaN", selector.Location{Lat: math.NaN()}, false},
		{"infinite", selector.Location{Lon: math.Inf(1)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.loc.Valid(); got != tc.want {
				t.Fatalf("Valid(%+v) = %v", tc.loc, got)
			}
		})
	}
}
