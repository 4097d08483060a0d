package selector_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

// benchFleet is n healthy relays spread over the globe in eight regions,
// with random loads.
func benchFleet(n int) []selector.Candidate {
	rng := rand.New(rand.NewPCG(3, 4))
	relays := make([]selector.Candidate, n)
	for i := range relays {
		loc := selector.Location{Lat: rng.Float64()*140 - 70, Lon: rng.Float64()*360 - 180}
		relays[i] = relay(fmt.Sprintf("r%05d", i), fmt.Sprintf("region-%d", i%8), loc, rng.IntN(100))
	}
	return relays
}

// BenchmarkSelect is a whole selection as the credential handler makes
// it: a GeoIP lookup of the client, then the choice among n relays.
func BenchmarkSelect(b *testing.B) {
	benchmarkSelect(b, openCityDB(b))
}

// BenchmarkSelectNoGeoIP is the choice alone: no Locator, region and
// load only.
func BenchmarkSelectNoGeoIP(b *testing.B) {
	benchmarkSelect(b, nil)
}

// BenchmarkSelectPlaced is the choice with distances, the client placed
// by a Locator that costs nothing, to separate the selector's work from
// the GeoIP lookup's.
func BenchmarkSelectPlaced(b *testing.B) {
	benchmarkSelect(b, locatorFunc(func(netip.Addr) (selector.Location, bool) { return frankfurt, true }))
}

func benchmarkSelect(b *testing.B, loc selector.Locator) {
	s, err := selector.New(selector.Config{Locator: loc, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	req := from(ipFrankfurt)
	for _, n := range []int{10, 1000, 10000} {
		relays := benchFleet(n)
		b.Run(fmt.Sprintf("relays=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Select(req, relays); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLocate is one lookup in the test City database.
func BenchmarkLocate(b *testing.B) {
	g := openCityDB(b)
	ip := netip.MustParseAddr(ipFrankfurt)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Locate(ip); !ok {
			b.Fatal("not found")
		}
	}
}
