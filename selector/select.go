package selector

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"
)

// Request describes the session to place. The zero Request asks for the
// least loaded healthy relay in any region.
type Request struct {
	// ClientIP is the address to locate: the host IP the request names or
	// the address it came from. The zero Addr means unknown: no distance,
	// load only. It is passed to the Locator and then dropped.
	ClientIP netip.Addr
	// FixedRegion, if set, is the only region the relay may be in; with no
	// healthy relay there, Select fails with ErrRegionUnavailable. It
	// takes precedence over PreferredRegion.
	FixedRegion string
	// PreferredRegion, if set, is tried first; with no healthy relay there,
	// the choice falls back to the nearest relay in any enabled region.
	PreferredRegion string
	// EnabledRegions limits the choice to relays in these regions; empty
	// means every region. A FixedRegion or PreferredRegion outside it is
	// an error (ErrRegionNotEnabled).
	EnabledRegions []string
}

// Select chooses the relay for req among relays and returns a copy of it.
//
// Only healthy relays (see [Selector.Healthy]) in an enabled region are
// considered, and only those in the fixed region if there is one, or in
// the preferred region if it has any. Among them, when the Locator places
// the client IP, the nearest relay by great-circle distance sets the tie
// band: relays within TieDistanceKm of it are tied, relays farther away or
// without a location are out. Among the tied relays (all considered ones
// when the client or no relay is placed), the lowest load wins, then the
// lowest Bitrate, then the lowest ID, so the choice does not depend on the
// order of relays.
//
// Errors: ErrRegionNotEnabled for a fixed or preferred region outside
// EnabledRegions, ErrRegionUnavailable when the fixed region has no healthy
// relay, ErrNoRelay when no relay qualifies at all. None carries the
// client IP.
//
// Select does not allocate, apart from what the Locator does and the
// errors; it reads relays twice and sorts nothing.
func (s *Selector) Select(req Request, relays []Candidate) (Candidate, error) {
	for _, r := range [...]string{req.FixedRegion, req.PreferredRegion} {
		if r != "" && !regionEnabled(req.EnabledRegions, r) {
			return Candidate{}, fmt.Errorf("%w: %q is not among %q", ErrRegionNotEnabled, r, req.EnabledRegions)
		}
	}
	sc := scan{
		s:       s,
		relays:  relays,
		enabled: req.EnabledRegions,
		cutoff:  s.cfg.Now().Add(-s.cfg.OfflineAfter),
	}
	if s.cfg.Locator != nil && req.ClientIP.IsValid() {
		if loc, ok := s.cfg.Locator.Locate(req.ClientIP); ok && loc.Valid() {
			sc.client, sc.located = newOrigin(loc), true
		}
	}
	if req.FixedRegion != "" {
		i := sc.best(req.FixedRegion)
		if i < 0 {
			return Candidate{}, fmt.Errorf("%w: no healthy relay in region %q", ErrRegionUnavailable, req.FixedRegion)
		}
		return relays[i], nil
	}
	if req.PreferredRegion != "" {
		if i := sc.best(req.PreferredRegion); i >= 0 {
			return relays[i], nil
		}
	}
	i := sc.best("")
	if i < 0 {
		return Candidate{}, fmt.Errorf("%w among %d candidates", ErrNoRelay, len(relays))
	}
	return relays[i], nil
}

// regionEnabled reports whether region is in enabled, an empty enabled
// set allowing every region.
func regionEnabled(enabled []string, region string) bool {
	return len(enabled) == 0 || slices.Contains(enabled, region)
}

// scan is one selection: the candidates, the filters and the client's
// place. It lives on Select's stack.
type scan struct {
	s       *Selector
	relays  []Candidate
	enabled []string
	cutoff  time.Time // reports before it are too old
	client  origin
	located bool // client is set
}

// eligible reports whether c is healthy, in an enabled region, and in
// region when region is not empty.
func (sc *scan) eligible(c *Candidate, region string) bool {
	return (region == "" || c.Region == region) && sc.s.healthy(c, sc.cutoff) && regionEnabled(sc.enabled, c.Region)
}

// best returns the index of the best eligible relay in region (any region
// when empty), or -1 when none is eligible.
//
// The first pass, run only when the client is placed, finds the haversine
// term of the nearest located relay. The second keeps the lightest relay
// within the tie band; it tests the cheap order first and computes a
// distance only for a relay that would win on load.
func (sc *scan) best(region string) int {
	band := math.Inf(1) // without distances every eligible relay is tied
	if sc.located {
		nearest := math.Inf(1)
		for i := range sc.relays {
			c := &sc.relays[i]
			if hasLocation(c) && sc.eligible(c, region) {
				nearest = min(nearest, sc.client.havWithin(c.Location, nearest))
			}
		}
		if !math.IsInf(nearest, 1) {
			// max: rounding must never leave the nearest relay outside.
			band = max(nearest, kmToHav(angleKm(nearest)+sc.s.cfg.TieDistanceKm))
		}
	}
	best, bestLoad := -1, 0.0
	for i := range sc.relays {
		c := &sc.relays[i]
		if !sc.eligible(c, region) {
			continue
		}
		load := c.load()
		if best >= 0 && !lighter(c, load, &sc.relays[best], bestLoad) {
			continue
		}
		if !math.IsInf(band, 1) && (!hasLocation(c) || sc.client.havWithin(c.Location, band) > band) {
			continue
		}
		best, bestLoad = i, load
	}
	return best
}

// hasLocation reports whether c has a location the selector can use.
func hasLocation(c *Candidate) bool {
	return c.HasLocation && c.Location.Valid()
}
