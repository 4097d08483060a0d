package selector

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
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
	// FixedRegions, if set, are regions the relay may be in, any of them:
	// the set form of FixedRegion, for a region alias that names several
	// regions (see Aliases). With FixedRegion also set, the relay may be in
	// FixedRegion or in one of FixedRegions.
	FixedRegions []string
	// PreferredRegion, if set, is tried first; with no healthy relay there,
	// the choice falls back to the nearest relay in any enabled region.
	PreferredRegion string
	// PreferredRegions, if set, are tried first, all of them together: the
	// set form of PreferredRegion, as FixedRegions is of FixedRegion.
	PreferredRegions []string
	// EnabledRegions limits the choice to relays in these regions; empty
	// means every region. A FixedRegion or PreferredRegion outside it is
	// an error (ErrRegionNotEnabled); so is a fixed or a preferred set none
	// of whose regions is in it, while a set that has some is cut down to
	// those.
	EnabledRegions []string
}

// Select chooses the relay for req among relays and returns a copy of it.
//
// Only healthy relays (see [Selector.Healthy]) in an enabled region are
// considered, and only those in the fixed region (or set of regions) if
// there is one, or in the preferred region (or set) if it has any. Among
// them, when the Locator places the client IP, the nearest relay by
// great-circle distance sets the tie band: relays within TieDistanceKm of
// it are tied, relays farther away or without a location are out. Among
// the tied relays (all considered ones when the client or no relay is
// placed), the lowest load wins, then the lowest Bitrate, then the lowest
// ID, so the choice does not depend on the order of relays.
//
// Errors: ErrRegionNotEnabled for a fixed or preferred region (or a set
// with none of its regions) outside EnabledRegions, ErrRegionUnavailable
// when the fixed region or set has no healthy relay, ErrNoRelay when no
// relay qualifies at all. None carries the client IP.
//
// Select does not allocate, apart from what the Locator does and the
// errors; it reads relays twice and sorts nothing.
func (s *Selector) Select(req Request, relays []Candidate) (Candidate, error) {
	fixed := regionSet{one: req.FixedRegion, many: req.FixedRegions}
	preferred := regionSet{one: req.PreferredRegion, many: req.PreferredRegions}
	for _, rs := range [...]regionSet{fixed, preferred} {
		if !rs.any() && !rs.enabledIn(req.EnabledRegions) {
			return Candidate{}, fmt.Errorf("%w: %s is not among %q", ErrRegionNotEnabled, rs, req.EnabledRegions)
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
	if !fixed.any() {
		i := sc.best(fixed)
		if i < 0 {
			return Candidate{}, fmt.Errorf("%w: no healthy relay in region %s", ErrRegionUnavailable, fixed)
		}
		return relays[i], nil
	}
	if !preferred.any() {
		if i := sc.best(preferred); i >= 0 {
			return relays[i], nil
		}
	}
	i := sc.best(regionSet{})
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

// regionSet is the regions a request names for one rule (fixed or
// preferred): its single region and its set, together. Empty, it allows
// every region.
type regionSet struct {
	one  string
	many []string
}

// any reports whether the set names no region: every region will do.
func (rs regionSet) any() bool { return rs.one == "" && len(rs.many) == 0 }

// has reports whether region is in the set.
func (rs regionSet) has(region string) bool {
	return (rs.one != "" && region == rs.one) || slices.Contains(rs.many, region)
}

// enabledIn reports whether a region of the set is in enabled (an empty
// enabled set allowing every region).
func (rs regionSet) enabledIn(enabled []string) bool {
	return len(enabled) == 0 || slices.ContainsFunc(enabled, rs.has)
}

// String names the set's regions for an error message: "eu-central" for
// one, ["eu-central" "eu-west"] for several.
func (rs regionSet) String() string {
	switch {
	case len(rs.many) == 0:
		return strconv.Quote(rs.one)
	case rs.one == "" && len(rs.many) == 1:
		return strconv.Quote(rs.many[0])
	case rs.one == "":
		return fmt.Sprintf("%q", rs.many)
	}
	return fmt.Sprintf("%q", append([]string{rs.one}, rs.many...))
}

// eligible reports whether c is healthy, in an enabled region, and in
// the region set when it names any.
func (sc *scan) eligible(c *Candidate, rs regionSet) bool {
	return (rs.any() || rs.has(c.Region)) && sc.s.healthy(c, sc.cutoff) && regionEnabled(sc.enabled, c.Region)
}

// best returns the index of the best eligible relay in the region set
// (any region when it names none), or -1 when none is eligible.
//
// The first pass, run only when the client is placed, finds the haversine
// term of the nearest located relay. The second keeps the lightest relay
// within the tie band; it tests the cheap order first and computes a
// distance only for a relay that would win on load.
func (sc *scan) best(region regionSet) int {
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
