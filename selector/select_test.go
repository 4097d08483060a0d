package selector_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

// now is the injected clock of every test.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// relay is a healthy relay at loc with capacity 100.
func relay(id, region string, loc selector.Location, allocations int) selector.Candidate {
	return selector.Candidate{ID: id, Region: region, Location: loc, HasLocation: true,
		Capacity: 100, Allocations: allocations, LastReport: now}
}

// fleet is the test fleet. Without distances, ams (least loaded) wins.
func fleet() []selector.Candidate {
	return []selector.Candidate{
		relay("fra", "eu-central", frankfurt, 50),
		relay("ams", "eu-west", amsterdam, 10), // 364 km from Frankfurt: in its tie band
		relay("iad", "us-east", virginia, 30),
		relay("sin", "ap-southeast", singapore, 20),
		relay("syd", "ap-sydney", sydney, 40),
	}
}

// change returns the fleet with f applied to the relay id.
func change(id string, f func(c *selector.Candidate)) []selector.Candidate {
	rs := fleet()
	for i := range rs {
		if rs[i].ID == id {
			f(&rs[i])
			return rs
		}
	}
	panic("no relay " + id)
}

func from(ip string) selector.Request { return selector.Request{ClientIP: netip.MustParseAddr(ip)} }

func TestSelect(t *testing.T) {
	geo := openCityDB(t)
	withRegions := func(r selector.Request, f func(*selector.Request)) selector.Request { f(&r); return r }
	cases := []struct {
		name    string
		noGeo   bool
		cfg     selector.Config // Locator and Now are set by the test
		req     selector.Request
		relays  []selector.Candidate
		want    string
		wantErr error
		errHas  string
	}{
		// Distance.
		{name: "nearest wins: Virginia", req: from(ipVirginia), relays: fleet(), want: "iad"},
		{name: "nearest wins: Singapore", req: from(ipSingapore), relays: fleet(), want: "sin"},
		{name: "nearest wins: Sydney", req: from(ipSydney), relays: fleet(), want: "syd"},
		{name: "nearest wins though busier than relays beyond the band", req: from(ipVirginia),
			relays: change("iad", func(c *selector.Candidate) { c.Allocations = 95 }), want: "iad"},
		{name: "tie by load: Frankfurt client, ams within 500 km and less loaded", req: from(ipFrankfurt), relays: fleet(), want: "ams"},
		{name: "tie by load: the other way round", req: from(ipAmsterdam),
			relays: change("fra", func(c *selector.Candidate) { c.Allocations = 5 }), want: "fra"},
		{name: "tie band narrower than Frankfurt–Amsterdam: nearest wins", cfg: selector.Config{TieDistanceKm: 100},
			req: from(ipFrankfurt), relays: fleet(), want: "fra"},
		{name: "tie band around the world: load only", cfg: selector.Config{TieDistanceKm: 20100},
			req: from(ipSydney), relays: fleet(), want: "ams"},
		{name: "tie by bit rate at equal load", req: from(ipFrankfurt), relays: func() []selector.Candidate {
			rs := change("fra", func(c *selector.Candidate) { c.Allocations, c.Bitrate = 10, 1e6 })
			rs[1].Bitrate = 5e6 // ams
			return rs
		}(), want: "fra"},
		{name: "load is relative to capacity", req: from(ipFrankfurt), relays: func() []selector.Candidate {
			rs := change("fra", func(c *selector.Candidate) { c.Capacity, c.Allocations = 1000, 50 }) // 5% against ams's 10%
			return rs
		}(), want: "fra"},
		{name: "IPv4-mapped IPv6 client treated as IPv4", req: from("::ffff:" + ipSingapore), relays: fleet(), want: "sin"},
		{name: "IPv6 client", req: from(ipFrankfurtV6), cfg: selector.Config{TieDistanceKm: 1}, relays: fleet(), want: "fra"},

		// Health.
		{name: "offline excluded", req: from(ipVirginia),
			relays: change("iad", func(c *selector.Candidate) { c.LastReport = now.Add(-16 * time.Second) }), want: "ams"},
		{name: "custom OfflineAfter keeps a slow reporter", cfg: selector.Config{OfflineAfter: time.Minute}, req: from(ipVirginia),
			relays: change("iad", func(c *selector.Candidate) { c.LastReport = now.Add(-16 * time.Second) }), want: "iad"},
		{name: "overloaded excluded", req: from(ipVirginia),
			relays: change("iad", func(c *selector.Candidate) { c.Allocations = 100 }), want: "ams"},
		{name: "OverloadRatio keeps headroom", cfg: selector.Config{OverloadRatio: 0.9}, req: from(ipVirginia),
			relays: change("iad", func(c *selector.Candidate) { c.Allocations = 90 }), want: "ams"},
		{name: "draining excluded", req: from(ipSydney),
			relays: change("syd", func(c *selector.Candidate) { c.Draining = true }), want: "sin"},
		{name: "nearest relay unhealthy: next nearest, not the least loaded", req: from(ipSydney),
			relays: change("syd", func(c *selector.Candidate) { c.Allocations = 100 }), want: "sin"},

		// Regions.
		{name: "fixed region", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.FixedRegion = "eu-central" }),
			relays: fleet(), want: "fra"},
		{name: "fixed region wins over preferred", req: withRegions(from(ipVirginia), func(r *selector.Request) {
			r.FixedRegion, r.PreferredRegion = "eu-central", "ap-southeast"
		}), relays: fleet(), want: "fra"},
		{name: "fixed region unavailable", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.FixedRegion = "eu-central" }),
			relays: change("fra", func(c *selector.Candidate) { c.Draining = true }), wantErr: selector.ErrRegionUnavailable, errHas: `"eu-central"`},
		{name: "fixed region without relays", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.FixedRegion = "sa-east" }),
			relays: fleet(), wantErr: selector.ErrRegionUnavailable, errHas: `"sa-east"`},
		{name: "preferred region, though farther", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.PreferredRegion = "ap-southeast" }),
			relays: fleet(), want: "sin"},
		{name: "preferred region: nearest within it, then load", req: withRegions(from(ipSydney), func(r *selector.Request) { r.PreferredRegion = "ap" }),
			relays: append(fleet(),
				relay("ap-sin", "ap", singapore, 0),
				relay("ap-syd-2", "ap", sydney, 20),
				relay("ap-syd-1", "ap", sydney, 30)),
			want: "ap-syd-2"},
		{name: "preferred region down: nearest", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.PreferredRegion = "ap-southeast" }),
			relays: change("sin", func(c *selector.Candidate) { c.LastReport = time.Time{} }), want: "iad"},
		{name: "preferred region without relays: nearest", req: withRegions(from(ipSydney), func(r *selector.Request) { r.PreferredRegion = "sa-east" }),
			relays: fleet(), want: "syd"},
		{name: "enabled regions", req: withRegions(from(ipVirginia), func(r *selector.Request) {
			r.EnabledRegions = []string{"eu-central", "ap-southeast"}
		}), relays: fleet(), want: "fra"},
		{name: "enabled regions all down", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.EnabledRegions = []string{"eu-central"} }),
			relays: change("fra", func(c *selector.Candidate) { c.Draining = true }), wantErr: selector.ErrNoRelay},
		{name: "preferred region down falls back within enabled regions", req: withRegions(from(ipVirginia), func(r *selector.Request) {
			r.PreferredRegion, r.EnabledRegions = "ap-southeast", []string{"ap-southeast", "ap-sydney"}
		}), relays: change("sin", func(c *selector.Candidate) { c.Draining = true }), want: "syd"},
		{name: "fixed region not enabled", req: withRegions(from(ipVirginia), func(r *selector.Request) {
			r.FixedRegion, r.EnabledRegions = "us-east", []string{"eu-central"}
		}), relays: fleet(), wantErr: selector.ErrRegionNotEnabled, errHas: `"us-east"`},
		{name: "preferred region not enabled", req: withRegions(from(ipVirginia), func(r *selector.Request) {
			r.PreferredRegion, r.EnabledRegions = "us-east", []string{"eu-central"}
		}), relays: fleet(), wantErr: selector.ErrRegionNotEnabled, errHas: `"us-east"`},
		{name: "region names are exact", req: withRegions(from(ipVirginia), func(r *selector.Request) { r.FixedRegion = "EU-Central" }),
			relays: fleet(), wantErr: selector.ErrRegionUnavailable},

		// Without a location.
		{name: "no locator: load only", noGeo: true, req: from(ipVirginia), relays: fleet(), want: "ams"},
		{name: "no locator: regions still apply", noGeo: true, req: withRegions(from(ipVirginia), func(r *selector.Request) {
			r.EnabledRegions = []string{"us-east", "ap-sydney"}
		}), relays: fleet(), want: "iad"},
		{name: "IP not in the database: load only", req: from(ipUncovered), relays: fleet(), want: "ams"},
		{name: "record without coordinates: load only", req: from(ipCountryOnly), relays: fleet(), want: "ams"},
		{name: "private IP: load only, though in the database", req: from(ipPrivate), relays: fleet(), want: "ams"},
		{name: "no client IP: load only", req: selector.Request{}, relays: fleet(), want: "ams"},
		{name: "relay without location is out when the client is placed", req: from(ipSingapore),
			relays: append(fleet(), selector.Candidate{ID: "aaa", Region: "x", Capacity: 100, LastReport: now}), want: "sin"},
		{name: "relay without location competes on load when the client is not", req: from(ipUncovered),
			relays: append(fleet(), selector.Candidate{ID: "aaa", Region: "x", Capacity: 100, LastReport: now}), want: "aaa"},
		{name: "relay with an invalid location counts as without", req: from(ipSingapore),
			relays: append(fleet(), selector.Candidate{ID: "aaa", Region: "x", HasLocation: true,
				Location: selector.Location{Lat: math.NaN(), Lon: 103.82}, Capacity: 100, LastReport: now}), want: "sin"},
		{name: "no relay located: load only", req: from(ipSydney), relays: []selector.Candidate{
			{ID: "b", Capacity: 100, Allocations: 5, LastReport: now},
			{ID: "a", Capacity: 100, Allocations: 7, LastReport: now},
		}, want: "b"},
		{name: "no capacity: load is the allocation count", noGeo: true, relays: append(fleet(),
			selector.Candidate{ID: "unlimited", Allocations: 1, LastReport: now}), want: "ams"},
		{name: "no capacity and idle", noGeo: true, relays: append(fleet(),
			selector.Candidate{ID: "unlimited", LastReport: now}), want: "unlimited"},

		// Nothing to choose.
		{name: "nothing healthy", req: from(ipVirginia), relays: func() []selector.Candidate {
			rs := fleet()
			for i := range rs {
				rs[i].Draining = true
			}
			return rs
		}(), wantErr: selector.ErrNoRelay, errHas: "5 candidates"},
		{name: "no relays", req: from(ipVirginia), relays: nil, wantErr: selector.ErrNoRelay},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Now = func() time.Time { return now }
			if !tc.noGeo {
				cfg.Locator = geo
			}
			s, err := selector.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Select(tc.req, tc.relays)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(fmt.Sprint(err), tc.errHas) {
					t.Fatalf("chose %q, error %v; want %v mentioning %s", got.ID, err, tc.wantErr, tc.errHas)
				}
				if tc.req.ClientIP.IsValid() && strings.Contains(err.Error(), tc.req.ClientIP.String()) {
					t.Fatalf("error %q carries the client IP", err)
				}
				return
			}
			if err != nil || got.ID != tc.want {
				t.Fatalf("chose %q (%v), want %q", got.ID, err, tc.want)
			}
		})
	}
}

// TestSelectStable: equal scores give the same choice whatever the order
// of the relays.
func TestSelectStable(t *testing.T) {
	geo := openCityDB(t)
	s, err := selector.New(selector.Config{Locator: geo, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// Forty relays in four cities and three load classes: for a Frankfurt
	// client the Frankfurt and Amsterdam ones are tied on distance, and
	// several of those share the lowest load; the lowest ID among them
	// must win every time.
	var base []selector.Candidate
	for i := range 40 {
		loc := []selector.Location{frankfurt, amsterdam, virginia, sydney}[i%4]
		base = append(base, relay(fmt.Sprintf("r%02d", 39-i), "x", loc, 10+i%3))
	}
	want := ""
	for _, c := range base {
		if c.Allocations == 10 && (c.Location == frankfurt || c.Location == amsterdam) && (want == "" || c.ID < want) {
			want = c.ID
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		relays := append([]selector.Candidate(nil), base...)
		rng.Shuffle(len(relays), func(i, j int) { relays[i], relays[j] = relays[j], relays[i] })
		got, err := s.Select(from(ipFrankfurt), relays)
		if err != nil || got.ID != want {
			t.Fatalf("chose %q (%v) from a shuffled fleet, want %q", got.ID, err, want)
		}
	}
}

// TestSelectNoCache: the client IP goes to the Locator on every call; the
// selector remembers nothing between calls.
func TestSelectNoCache(t *testing.T) {
	calls := 0
	loc := locatorFunc(func(netip.Addr) (selector.Location, bool) { calls++; return virginia, true })
	s, err := selector.New(selector.Config{Locator: loc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if c, err := s.Select(from(ipVirginia), fleet()); err != nil || c.ID != "iad" {
			t.Fatalf("chose %q, %v", c.ID, err)
		}
	}
	if calls != 3 {
		t.Fatalf("Locate called %d times for 3 selections", calls)
	}
}

// TestSelectAllocs: with a Locator that does not allocate, selection does
// not either.
func TestSelectAllocs(t *testing.T) {
	loc := locatorFunc(func(netip.Addr) (selector.Location, bool) { return frankfurt, true })
	s, err := selector.New(selector.Config{Locator: loc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	relays := fleet()
	req := from(ipFrankfurt)
	req.PreferredRegion, req.EnabledRegions = "ap-sydney", []string{"eu-central", "eu-west", "ap-sydney"}
	relays[4].Draining = true // the preferred region is down: three scans
	if n := testing.AllocsPerRun(100, func() {
		if c, err := s.Select(req, relays); err != nil || c.ID != "ams" {
			t.Fatalf("chose %q, %v", c.ID, err)
		}
	}); n != 0 {
		t.Fatalf("Select allocates %v times", n)
	}
}

type locatorFunc func(netip.Addr) (selector.Location, bool)

func (f locatorFunc) Locate(ip netip.Addr) (selector.Location, bool) { return f(ip) }
