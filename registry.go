package turnkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
)

// registry is the RelayChooser of a Kit: the relays of the store's
// registry (announced and reporting) and the static ones of Config.Relays,
// chosen by the selector — nearest healthy relay to the host IP when GeoIP
// places it, least loaded among those tied on distance, lowest ID on a tie.
// Static relays count as healthy and unloaded. It reads the registry at
// most once per CacheTTL.
type registry struct {
	st       store.Relays
	sel      *selector.Selector
	static   []RelayEndpoint
	cacheTTL time.Duration
	now      func() time.Time

	mu       sync.Mutex // guards the cache
	cached   []store.RelayRecord
	cachedAt time.Time
}

var _ RelayChooser = (*registry)(nil)

func newRegistry(st store.Relays, loc selector.Locator, cfg FleetConfig, static []RelayEndpoint, now func() time.Time) (*registry, error) {
	sel, err := selector.New(selector.Config{Locator: loc, OfflineAfter: cfg.OfflineAfter, TieDistanceKm: cfg.TieDistanceKm, Now: now})
	if err != nil {
		return nil, fmt.Errorf("turnkit: fleet: %w", err)
	}
	return &registry{st: st, sel: sel, static: static, cacheTTL: cfg.CacheTTL, now: now}, nil
}

// relays returns the registry, read at most once per cacheTTL.
func (g *registry) relays(ctx context.Context) ([]store.RelayRecord, error) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cached != nil && now.Sub(g.cachedAt) < g.cacheTTL && !now.Before(g.cachedAt) {
		return g.cached, nil
	}
	rs, err := g.st.ListRelays(ctx)
	if err != nil {
		return nil, fmt.Errorf("turnkit: relay registry: %w", err)
	}
	g.cached, g.cachedAt = rs, now
	return rs, nil
}

// forget drops the cached registry, after a change.
func (g *registry) forget() {
	g.mu.Lock()
	g.cached = nil
	g.mu.Unlock()
}

// ChooseRelay picks the relay for a new session with the selector.
func (g *registry) ChooseRelay(ctx context.Context, q RelayQuery) (RelayEndpoint, error) {
	rs, err := g.relays(ctx)
	if err != nil {
		return RelayEndpoint{}, err
	}
	now := g.now()
	cands := make([]selector.Candidate, 0, len(rs)+len(g.static))
	for _, r := range rs {
		if len(r.URLs) == 0 {
			continue
		}
		cands = append(cands, selector.Candidate{
			ID: r.ID, Region: r.Region, Location: selector.Location{Lat: r.Lat, Lon: r.Lon}, HasLocation: r.HasLocation,
			Capacity: r.Capacity, Allocations: r.Allocations, Bitrate: r.Bitrate, LastReport: r.ReportedAt, Draining: r.Draining,
		})
	}
	for _, r := range g.static {
		if len(r.URLs) > 0 {
			cands = append(cands, selector.Candidate{ID: r.ID, Region: r.Region, LastReport: now})
		}
	}
	c, err := g.sel.Select(selector.Request{ClientIP: q.HostIP, FixedRegion: q.FixedRegion, FixedRegions: q.FixedRegions,
		PreferredRegion: q.PreferredRegion, PreferredRegions: q.PreferredRegions, EnabledRegions: q.EnabledRegions}, cands)
	switch {
	case errors.Is(err, selector.ErrRegionNotEnabled):
		return RelayEndpoint{}, err
	case errors.Is(err, selector.ErrRegionUnavailable):
		return RelayEndpoint{}, fmt.Errorf("%w: region %s has no healthy relay", ErrNoRelay, quoteRegions(regionsOf(q.FixedRegion, q.FixedRegions)))
	case err != nil:
		return RelayEndpoint{}, fmt.Errorf("%w: every relay is offline, draining or full", ErrNoRelay)
	}
	rel, ok, err := g.RelayByID(ctx, c.ID)
	if err != nil {
		return RelayEndpoint{}, err
	}
	if !ok {
		return RelayEndpoint{}, fmt.Errorf("%w: relay %s left the registry", ErrNoRelay, c.ID)
	}
	return rel, nil
}

// RelayByID returns a relay of the registry by ID, whatever its health: a
// gateway stays pinned to the relay its sessions are on.
func (g *registry) RelayByID(ctx context.Context, id string) (RelayEndpoint, bool, error) {
	rs, err := g.relays(ctx)
	if err != nil {
		return RelayEndpoint{}, false, err
	}
	for _, r := range rs {
		if r.ID == id && len(r.URLs) > 0 {
			return RelayEndpoint{ID: r.ID, Region: r.Region, URLs: r.URLs}, true, nil
		}
	}
	for _, r := range g.static {
		if r.ID == id {
			return r, true, nil
		}
	}
	return RelayEndpoint{}, false, nil
}
