package selector

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestHavConsistent checks the shortcuts Select takes against DistanceKm:
// comparing haversine terms orders relays as distances do, kmToHav
// inverts angleKm, and havWithin agrees with hav whenever it matters.
func TestHavConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	point := func() Location { return Location{Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180} }
	for range 10000 {
		o, a, b := point(), point(), point()
		org := newOrigin(o)
		ha, hb := org.hav(a), org.hav(b)
		da, db := DistanceKm(o, a), DistanceKm(o, b)
		if (ha < hb) != (da < db) && math.Abs(da-db) > 1e-9 {
			t.Fatalf("order of terms %v, %v differs from distances %v, %v", ha, hb, da, db)
		}
		if back := angleKm(kmToHav(da)); math.Abs(back-da) > 1e-6 {
			t.Fatalf("angleKm(kmToHav(%v)) = %v", da, back)
		}
		limit := rng.Float64()
		w := org.havWithin(a, limit)
		if (w > limit) != (ha > limit) || (w <= limit && w != ha) {
			t.Fatalf("havWithin(limit %v) = %v, hav = %v", limit, w, ha)
		}
	}
	if kmToHav(30000) != 1 {
		t.Fatal("kmToHav beyond half the circumference is not 1")
	}
}
