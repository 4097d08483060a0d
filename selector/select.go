package selector

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Config configures a Selector. The zero value selects by region and load
// only.
type Config struct {
	// Locator places client IPs. Nil means no GeoIP: relays are chosen by
	// region and load alone.
	Locator Locator
	// TieDistanceKm makes relays within this distance of the nearest one
	// count as equally near, so the least loaded of them wins. Defaults to
	// 500 km.
	TieDistanceKm float64
	// OfflineAfter is how old a relay's last report may be. Defaults to
	// 15 seconds (three reports at the default 5-second interval).
	OfflineAfter time.Duration
	// OverloadRatio is the fraction of its capacity at which a relay is
	// overloaded and excluded. Defaults to 1: at or over capacity.
	OverloadRatio float64
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// Candidate is what the caller knows of one relay.
type Candidate struct {
	// ID identifies the relay; the lowest ID wins a final tie.
	ID string
	// Region is the relay's region slug.
	Region string
	// Location is where the relay is, when HasLocation.
	Location    Location
	HasLocation bool
	// Capacity is the allocations the relay takes at most; zero means no
	// stated limit.
	Capacity int
	// Allocations is the relay's last reported load.
	Allocations int
	// LastReport is when the relay last reported.
	LastReport time.Time
	// Draining relays keep their sessions and get no new ones.
	Draining bool
}

// load is the candidate's load for tie-breaking: allocations over
// capacity, or the allocation count when the relay states no capacity.
func (c *Candidate) load() float64 {
	if c.Capacity > 0 {
		return float64(c.Allocations) / float64(c.Capacity)
	}
	return float64(c.Allocations)
}

// Request describes the session to place.
type Request struct {
	// ClientIP is the address to locate; the zero Addr means unknown.
	ClientIP netip.Addr
	// FixedRegion, if set, is the only region the relay may be in.
	FixedRegion string
	// PreferredRegion, if set, is tried first; without a healthy relay
	// there, the nearest relay elsewhere is chosen.
	PreferredRegion string
	// EnabledRegions limits the choice to these regions; empty means all.
	EnabledRegions []string
}

// Selector chooses relays. It is safe for concurrent use and holds no
// state between calls.
type Selector struct {
	cfg Config
}

// New returns a Selector.
func New(cfg Config) (*Selector, error) {
	if cfg.TieDistanceKm < 0 || cfg.OfflineAfter < 0 || cfg.OverloadRatio < 0 {
		return nil, fmt.Errorf("selector: config: negative TieDistanceKm %v, OfflineAfter %v or OverloadRatio %v",
			cfg.TieDistanceKm, cfg.OfflineAfter, cfg.OverloadRatio)
	}
	if cfg.TieDistanceKm == 0 {
		cfg.TieDistanceKm = 500
	}
	if cfg.OfflineAfter == 0 {
		cfg.OfflineAfter = 15 * time.Second
	}
	if cfg.OverloadRatio == 0 {
		cfg.OverloadRatio = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Selector{cfg: cfg}, nil
}

// Healthy reports whether a relay may take a new session at now: it is not
// draining, it reported within OfflineAfter, and it is under its capacity
// times OverloadRatio.
func (s *Selector) Healthy(c *Candidate, now time.Time) bool {
	return !c.Draining && now.Sub(c.LastReport) <= s.cfg.OfflineAfter &&
		(c.Capacity <= 0 || float64(c.Allocations) < float64(c.Capacity)*s.cfg.OverloadRatio)
}

// Select chooses the relay for req among relays: healthy, in an enabled
// region, in the fixed or else the preferred region if one is named; then
// the nearest to the client, where relays within TieDistanceKm of the
// nearest are tied and the least loaded wins; the lowest ID breaks a final
// tie, so the choice does not depend on the order of relays. Relays without
// a location come after those with one. Only the Locator allocates.
func (s *Selector) Select(req Request, relays []Candidate) (Candidate, error) {
	enabled := func(region string) bool {
		return len(req.EnabledRegions) == 0 || slices.Contains(req.EnabledRegions, region)
	}
	for _, r := range []string{req.FixedRegion, req.PreferredRegion} {
		if r != "" && !enabled(r) {
			return Candidate{}, fmt.Errorf("%w: %q", ErrRegionNotEnabled, r)
		}
	}
	now := s.cfg.Now()
	var client Location
	located := false
	if s.cfg.Locator != nil && req.ClientIP.IsValid() {
		client, located = s.cfg.Locator.Locate(req.ClientIP)
	}
	pick := func(region string) (int, bool) {
		return s.best(relays, now, client, located, func(c *Candidate) bool {
			return enabled(c.Region) && (region == "" || c.Region == region)
		})
	}
	if req.FixedRegion != "" {
		i, ok := pick(req.FixedRegion)
		if !ok {
			return Candidate{}, fmt.Errorf("%w: no healthy relay in %q", ErrRegionUnavailable, req.FixedRegion)
		}
		return relays[i], nil
	}
	if req.PreferredRegion != "" {
		if i, ok := pick(req.PreferredRegion); ok {
			return relays[i], nil
		}
	}
	i, ok := pick("")
	if !ok {
		return Candidate{}, ErrNoRelay
	}
	return relays[i], nil
}

// best returns the index of the best healthy relay that passes keep, in
// two passes: the nearest distance, then the least loaded within the tie
// distance of it.
func (s *Selector) best(relays []Candidate, now time.Time, client Location, located bool, keep func(*Candidate) bool) (int, bool) {
	nearest := -1.0
	for i := range relays {
		c := &relays[i]
		if !keep(c) || !s.Healthy(c, now) {
			continue
		}
		if d, ok := s.distance(c, client, located); ok && (nearest < 0 || d < nearest) {
			nearest = d
		}
	}
	bestI := -1
	var bestC *Candidate
	bestNear := false
	for i := range relays {
		c := &relays[i]
		if !keep(c) || !s.Healthy(c, now) {
			continue
		}
		near := true // without distances every healthy relay is "near"
		if nearest >= 0 {
			d, ok := s.distance(c, client, located)
			near = ok && d <= nearest+s.cfg.TieDistanceKm
		}
		switch {
		case bestC == nil,
			near && !bestNear,
			near == bestNear && c.load() < bestC.load(),
			near == bestNear && c.load() == bestC.load() && c.ID < bestC.ID:
			bestI, bestC, bestNear = i, c, near
		}
	}
	return bestI, bestI >= 0
}

// distance returns the distance from the client to the relay, when both
// are located.
func (s *Selector) distance(c *Candidate, client Location, located bool) (float64, bool) {
	if !located || !c.HasLocation {
		return 0, false
	}
	return DistanceKm(client, c.Location), true
}
