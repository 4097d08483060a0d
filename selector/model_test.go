package selector_test

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

// reference is Select written the slow, obvious way: filter into new
// slices, compute every distance in kilometres, sort. Select must agree
// with it on every input.
func reference(cfg selector.Config, req selector.Request, client selector.Location, located bool, relays []selector.Candidate) (string, error) {
	s, _ := selector.New(cfg)
	enabled := func(r string) bool { return len(req.EnabledRegions) == 0 || slices.Contains(req.EnabledRegions, r) }
	// A rule's regions are its single region and its set together; none
	// means any region.
	fixed := slices.DeleteFunc(append([]string{req.FixedRegion}, req.FixedRegions...), func(r string) bool { return r == "" })
	preferred := slices.DeleteFunc(append([]string{req.PreferredRegion}, req.PreferredRegions...), func(r string) bool { return r == "" })
	for _, set := range [][]string{fixed, preferred} {
		if len(set) > 0 && !slices.ContainsFunc(set, enabled) {
			return "", selector.ErrRegionNotEnabled
		}
	}
	pick := func(regions []string) string {
		var in []selector.Candidate
		for _, c := range relays {
			if s.Healthy(&c, now) && enabled(c.Region) && (len(regions) == 0 || slices.Contains(regions, c.Region)) {
				in = append(in, c)
			}
		}
		if located {
			var placed []selector.Candidate
			for _, c := range in {
				if c.HasLocation && c.Location.Valid() {
					placed = append(placed, c)
				}
			}
			if len(placed) > 0 {
				nearest := -1.0
				for _, c := range placed {
					if d := selector.DistanceKm(client, c.Location); nearest < 0 || d < nearest {
						nearest = d
					}
				}
				in = in[:0]
				for _, c := range placed {
					if selector.DistanceKm(client, c.Location) <= nearest+cfg.TieDistanceKm {
						in = append(in, c)
					}
				}
			}
		}
		load := func(c selector.Candidate) float64 {
			if c.Capacity > 0 {
				return float64(c.Allocations) / float64(c.Capacity)
			}
			return float64(c.Allocations)
		}
		slices.SortFunc(in, func(a, b selector.Candidate) int {
			return cmp.Or(cmp.Compare(load(a), load(b)), cmp.Compare(a.Bitrate, b.Bitrate), cmp.Compare(a.ID, b.ID))
		})
		if len(in) == 0 {
			return ""
		}
		return in[0].ID
	}
	if len(fixed) > 0 {
		if id := pick(fixed); id != "" {
			return id, nil
		}
		return "", selector.ErrRegionUnavailable
	}
	if len(preferred) > 0 {
		if id := pick(preferred); id != "" {
			return id, nil
		}
	}
	if id := pick(nil); id != "" {
		return id, nil
	}
	return "", selector.ErrNoRelay
}

// TestSelectMatchesReference compares Select with the reference on random
// fleets and requests: a few relays in a few regions, clustered so that tie
// bands, equal loads and unhealthy relays are common.
func TestSelectMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	regions := []string{"a", "b", "c", "d"}
	cities := []selector.Location{frankfurt, amsterdam, virginia, singapore, sydney, {Lat: 48.85, Lon: 2.35}, {Lat: 40.71, Lon: -74.0}}
	near := func(l selector.Location) selector.Location {
		return selector.Location{Lat: l.Lat + rng.NormFloat64()*2, Lon: l.Lon + rng.NormFloat64()*2}
	}
	for iter := range 3000 {
		var relays []selector.Candidate
		for i := range rng.IntN(12) {
			c := selector.Candidate{
				ID:          fmt.Sprintf("r%d", rng.IntN(1000)*100+i), // unique
				Region:      regions[rng.IntN(len(regions))],
				Location:    near(cities[rng.IntN(len(cities))]),
				HasLocation: rng.IntN(8) > 0,
				Capacity:    []int{0, 10, 100}[rng.IntN(3)],
				Allocations: rng.IntN(12),
				Bitrate:     int64(rng.IntN(3)) * 1e6,
				LastReport:  now.Add(-time.Duration(rng.IntN(20)) * time.Second),
				Draining:    rng.IntN(10) == 0,
			}
			relays = append(relays, c)
		}
		var req selector.Request
		some := func() []string { // a set of 0 to 3 regions, as an alias names them
			var set []string
			for range rng.IntN(4) {
				set = append(set, regions[rng.IntN(len(regions))])
			}
			return set
		}
		if rng.IntN(4) == 0 {
			req.FixedRegion = regions[rng.IntN(len(regions))]
		}
		if rng.IntN(5) == 0 {
			req.FixedRegions = some()
		}
		if rng.IntN(3) == 0 {
			req.PreferredRegion = regions[rng.IntN(len(regions))]
		}
		if rng.IntN(4) == 0 {
			req.PreferredRegions = some()
		}
		for _, r := range regions {
			if rng.IntN(3) == 0 {
				req.EnabledRegions = append(req.EnabledRegions, r)
			}
		}
		client, located := near(cities[rng.IntN(len(cities))]), rng.IntN(5) > 0
		req.ClientIP = netip.MustParseAddr("198.51.100.1")
		cfg := selector.Config{
			Locator:       locatorFunc(func(netip.Addr) (selector.Location, bool) { return client, located }),
			TieDistanceKm: []float64{0.001, 200, 500, 3000}[rng.IntN(4)],
			OverloadRatio: []float64{0.8, 1, 1.2}[rng.IntN(3)],
			Now:           func() time.Time { return now },
		}
		s, err := selector.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, gotErr := s.Select(req, relays)
		want, wantErr := reference(cfg, req, client, located, relays)
		if gotErr != nil || wantErr != nil {
			if !errors.Is(gotErr, wantErr) {
				t.Fatalf("iteration %d: error %v, want %v\nrequest %+v\nrelays %+v", iter, gotErr, wantErr, req, relays)
			}
			continue
		}
		if got.ID != want {
			t.Fatalf("iteration %d: chose %s, want %s\nclient %+v located %v, config %+v\nrequest %+v\nrelays %+v",
				iter, got.ID, want, client, located, cfg, req, relays)
		}
	}
}
