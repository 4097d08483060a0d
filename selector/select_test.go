package selector_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func relayAt(id, region string, lat, lon float64, allocations int) selector.Candidate {
	return selector.Candidate{ID: id, Region: region, Location: selector.Location{Lat: lat, Lon: lon}, HasLocation: true,
		Capacity: 100, Allocations: allocations, LastReport: now}
}

func fleet() []selector.Candidate {
	return []selector.Candidate{
		relayAt("fra", "eu-central", 50.11, 8.68, 50),
		relayAt("ams", "eu-west", 52.37, 4.90, 10), // 360 km from Frankfurt: tied with it
		relayAt("iad", "us-east", 38.95, -77.45, 0),
		relayAt("sin", "ap-singapore", 1.35, 103.82, 0),
	}
}

func newSelector(t testing.TB, loc selector.Locator) *selector.Selector {
	t.Helper()
	s, err := selector.New(selector.Config{Locator: loc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSelect(t *testing.T) {
	geo := openCityDB(t)
	mod := func(f func([]selector.Candidate)) []selector.Candidate {
		r := fleet()
		f(r)
		return r
	}
	cases := []struct {
		name    string
		noGeo   bool
		req     selector.Request
		relays  []selector.Candidate
		want    string
		wantErr error
	}{
		{name: "Virginia client gets the US relay", req: selector.Request{ClientIP: mustAddr("3.0.0.9")}, relays: fleet(), want: "iad"},
		{name: "Singapore client", req: selector.Request{ClientIP: mustAddr("13.0.0.9")}, relays: fleet(), want: "sin"},
		{name: "Frankfurt client: fra and ams tie, ams is less loaded", req: selector.Request{ClientIP: mustAddr("81.0.0.9")}, relays: fleet(), want: "ams"},
		{name: "IPv4-mapped client", req: selector.Request{ClientIP: mustAddr("::ffff:13.0.0.9")}, relays: fleet(), want: "sin"},
		{name: "IPv6 client", req: selector.Request{ClientIP: mustAddr("2a00:1450::9")}, relays: fleet(), want: "ams"},
		{name: "Sydney client: nearest is Singapore", req: selector.Request{ClientIP: mustAddr("1.128.0.9")}, relays: fleet(), want: "sin"},
		{name: "offline relay excluded", req: selector.Request{ClientIP: mustAddr("3.0.0.9")},
			relays: mod(func(r []selector.Candidate) { r[2].LastReport = now.Add(-16 * time.Second) }), want: "ams"},
		{name: "overloaded relay excluded", req: selector.Request{ClientIP: mustAddr("3.0.0.9")},
			relays: mod(func(r []selector.Candidate) { r[2].Allocations = 100 }), want: "ams"},
		{name: "draining relay excluded", req: selector.Request{ClientIP: mustAddr("13.0.0.9")},
			relays: mod(func(r []selector.Candidate) { r[3].Draining = true }), want: "ams"},
		{name: "fixed region", req: selector.Request{ClientIP: mustAddr("3.0.0.9"), FixedRegion: "eu-central"}, relays: fleet(), want: "fra"},
		{name: "fixed region down", req: selector.Request{ClientIP: mustAddr("3.0.0.9"), FixedRegion: "eu-central"},
			relays: mod(func(r []selector.Candidate) { r[0].Draining = true }), wantErr: selector.ErrRegionUnavailable},
		{name: "preferred region", req: selector.Request{ClientIP: mustAddr("3.0.0.9"), PreferredRegion: "ap-singapore"}, relays: fleet(), want: "sin"},
		{name: "preferred region down: nearest", req: selector.Request{ClientIP: mustAddr("3.0.0.9"), PreferredRegion: "ap-singapore"},
			relays: mod(func(r []selector.Candidate) { r[3].LastReport = time.Time{} }), want: "iad"},
		{name: "enabled regions", req: selector.Request{ClientIP: mustAddr("3.0.0.9"), EnabledRegions: []string{"eu-central", "ap-singapore"}},
			relays: fleet(), want: "fra"},
		{name: "region not enabled", req: selector.Request{FixedRegion: "us-east", EnabledRegions: []string{"eu-central"}},
			relays: fleet(), wantErr: selector.ErrRegionNotEnabled},
		{name: "no GeoIP: least loaded, lowest ID", noGeo: true, req: selector.Request{ClientIP: mustAddr("3.0.0.9")}, relays: fleet(), want: "iad"},
		{name: "IP not in the database: load only", req: selector.Request{ClientIP: mustAddr("10.1.2.3")}, relays: fleet(), want: "iad"},
		{name: "no client IP", req: selector.Request{}, relays: fleet(), want: "iad"},
		{name: "relay without location comes after located ones", req: selector.Request{ClientIP: mustAddr("13.0.0.9")},
			relays: append(fleet(), selector.Candidate{ID: "aaa", Region: "x", Capacity: 100, LastReport: now}), want: "sin"},
		{name: "nothing healthy", req: selector.Request{}, relays: mod(func(r []selector.Candidate) {
			for i := range r {
				r[i].Draining = true
			}
		}), wantErr: selector.ErrNoRelay},
		{name: "no relays", req: selector.Request{}, relays: nil, wantErr: selector.ErrNoRelay},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var loc selector.Locator = geo
			if tc.noGeo {
				loc = nil
			}
			got, err := newSelector(t, loc).Select(tc.req, tc.relays)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.ID != tc.want {
				t.Fatalf("chose %q (%v), want %q", got.ID, err, tc.want)
			}
		})
	}
}

// TestSelectStable: equal relays in any order give the same choice.
func TestSelectStable(t *testing.T) {
	s := newSelector(t, nil)
	base := []selector.Candidate{}
	for i := range 20 {
		base = append(base, selector.Candidate{ID: fmt.Sprintf("r%02d", i), Region: "x", LastReport: now})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		relays := append([]selector.Candidate(nil), base...)
		rng.Shuffle(len(relays), func(i, j int) { relays[i], relays[j] = relays[j], relays[i] })
		if got, _ := s.Select(selector.Request{}, relays); got.ID != "r00" {
			t.Fatalf("chose %s from a shuffled fleet, want r00", got.ID)
		}
	}
}

func TestNewRejectsNegative(t *testing.T) {
	if _, err := selector.New(selector.Config{TieDistanceKm: -1}); err == nil {
		t.Fatal("negative tie distance accepted")
	}
}

func BenchmarkSelect(b *testing.B) {
	geo := openCityDB(b)
	s := newSelector(b, geo)
	for _, n := range []int{10, 1000, 10000} {
		relays := make([]selector.Candidate, n)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range relays {
			relays[i] = relayAt(fmt.Sprintf("r%05d", i), fmt.Sprintf("region-%d", i%8), rng.Float64()*140-70, rng.Float64()*360-180, rng.IntN(100))
		}
		req := selector.Request{ClientIP: mustAddr("81.0.0.9")}
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

func ExampleSelector_Select() {
	s, _ := selector.New(selector.Config{Now: func() time.Time { return now }}) // no GeoIP: region and load
	relays := []selector.Candidate{
		{ID: "eu-1", Region: "eu-central", Capacity: 100, Allocations: 70, LastReport: now},
		{ID: "eu-2", Region: "eu-central", Capacity: 100, Allocations: 20, LastReport: now},
		{ID: "us-1", Region: "us-east", Capacity: 100, Allocations: 5, LastReport: now},
	}
	r, _ := s.Select(selector.Request{FixedRegion: "eu-central"}, relays)
	fmt.Println(r.ID)
	r, _ = s.Select(selector.Request{}, relays)
	fmt.Println(r.ID)
	_, err := s.Select(selector.Request{FixedRegion: "ap-sydney"}, relays)
	fmt.Println(err)
	// Output:
	// eu-2
	// us-1
	// turnkit: region unavailable: no healthy relay in "ap-sydney"
}
