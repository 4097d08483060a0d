package turnkit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
)

// FleetConfig configures the relay registry: how relays report and when
// they count as gone. The zero value is the defaults.
type FleetConfig struct {
	// ReportInterval is how often the in-process relay reports its load
	// through the store. Defaults to 5 seconds.
	ReportInterval time.Duration
	// OfflineAfter is how old a relay's last report may be before it gets
	// no new sessions. Defaults to three ReportIntervals.
	OfflineAfter time.Duration
	// DeadAfter is how long a relay may go without reporting before its
	// open sessions are closed with the usage they last reported. Defaults
	// to one minute.
	DeadAfter time.Duration
	// Lat and Lon locate the in-process relay, in degrees, for choosing
	// relays by distance; HasLocation says they are set.
	Lat, Lon    float64
	HasLocation bool
	// TieDistanceKm makes relays within this distance of the nearest one
	// count as equally near, so the least loaded of them wins. Defaults to
	// 500 km.
	TieDistanceKm float64
	// CacheTTL is how long the issuer reuses one read of the registry.
	// Defaults to one second; negative reads it for every credential.
	CacheTTL time.Duration
	// Capacity is the allocations the in-process relay announces it takes;
	// at or over it, the relay counts as overloaded. Defaults to the
	// relay's MaxAllocations.
	Capacity int
}

func (c FleetConfig) withDefaults(relayMax int) FleetConfig {
	if c.ReportInterval <= 0 {
		c.ReportInterval = 5 * time.Second
	}
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 3 * c.ReportInterval
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = time.Minute
	}
	if c.Capacity <= 0 {
		c.Capacity = relayMax
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = time.Second
	}
	return c
}

// fleet keeps the in-process relay registered and chooses relays for new
// sessions from the registry.
type fleet struct {
	k    *Kit
	cfg  FleetConfig
	sel  *selector.Selector
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex // guards the cache
	cached   []store.RelayRecord
	cachedAt time.Time

	// lastBytes and lastAt are the relay's byte count at the previous
	// report; only run's goroutine uses them.
	lastBytes int64
	lastAt    time.Time
}

func newFleet(k *Kit, cfg FleetConfig, loc selector.Locator) (*fleet, error) {
	sel, err := selector.New(selector.Config{Locator: loc, OfflineAfter: cfg.OfflineAfter, TieDistanceKm: cfg.TieDistanceKm, Now: k.cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("turnkit: fleet: %w", err)
	}
	return &fleet{k: k, cfg: cfg, sel: sel, stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// announce registers the in-process relay.
func (f *fleet) announce(ctx context.Context) error {
	r := f.k.relay
	rec := store.RelayRecord{
		ID: r.ID(), Region: r.Region(), URLs: r.URLs(), Capacity: f.cfg.Capacity, Instance: r.Instance(),
		Lat: f.cfg.Lat, Lon: f.cfg.Lon, HasLocation: f.cfg.HasLocation, ReportedAt: f.k.cfg.Now().UTC(),
	}
	if err := f.k.store.AnnounceRelay(ctx, rec); err != nil {
		return fmt.Errorf("turnkit: announce relay %s: %w", rec.ID, err)
	}
	return nil
}

// run reports the in-process relay's load every ReportInterval and closes
// the sessions of relays that stopped reporting, until close.
func (f *fleet) run() {
	defer close(f.done)
	t := time.NewTicker(f.cfg.ReportInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			f.tick(context.Background())
		}
	}
}

func (f *fleet) tick(ctx context.Context) {
	now := f.k.cfg.Now().UTC()
	if r := f.k.relay; r != nil {
		st := r.Stats()
		var bitrate int64
		wall := time.Now()
		if !f.lastAt.IsZero() {
			if secs := wall.Sub(f.lastAt).Seconds(); secs > 0 {
				bitrate = int64(float64(st.RelayedBytes-f.lastBytes) * 8 / secs)
			}
		}
		f.lastBytes, f.lastAt = st.RelayedBytes, wall
		if err := f.k.store.ReportRelayLoad(ctx, r.ID(), st.Allocations, max(bitrate, 0), now); err != nil {
			f.k.log.Error("relay load report failed", "relay", r.ID(), "err", err)
		}
	}
	if err := f.k.exchange.expireShared(ctx); err != nil {
		f.k.log.Error("exchange expiry failed", "err", err)
	}
	relays, err := f.k.store.ListRelays(ctx)
	if err != nil {
		f.k.log.Error("relay registry read failed", "err", err)
		return
	}
	for _, r := range relays {
		if now.Sub(r.ReportedAt) > f.cfg.DeadAfter {
			n, err := f.k.store.CloseRelaySessions(ctx, r.ID, "", now)
			if err != nil {
				f.k.log.Error("closing a dead relay's sessions failed", "relay", r.ID, "err", err)
			} else if n > 0 {
				f.k.log.Info("closed the sessions of a relay that stopped reporting", "relay", r.ID, "sessions", n)
			}
		}
	}
}

func (f *fleet) close() {
	close(f.stop)
	<-f.done
}

// relays returns the registry, read at most once per listTTL.
func (f *fleet) relays(ctx context.Context) ([]store.RelayRecord, error) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached != nil && now.Sub(f.cachedAt) < f.cfg.CacheTTL {
		return f.cached, nil
	}
	rs, err := f.k.store.ListRelays(ctx)
	if err != nil {
		return nil, fmt.Errorf("turnkit: relay registry: %w", err)
	}
	f.cached, f.cachedAt = rs, now
	return rs, nil
}

// forget drops the cached registry, after a change made through this Kit.
func (f *fleet) forget() {
	f.mu.Lock()
	f.cached = nil
	f.mu.Unlock()
}

// choose picks the relay for a new session with the selector, among the
// relays of the registry and the static ones from Config.Relays (which
// count as healthy and unloaded): nearest to the host IP when GeoIP places
// it, least loaded among those tied on distance, lowest ID on a tie.
func (f *fleet) choose(ctx context.Context, host netip.Addr, fixed, preferred string, enabled []string) (RelayEndpoint, error) {
	rs, err := f.relays(ctx)
	if err != nil {
		return RelayEndpoint{}, err
	}
	now := f.k.cfg.Now()
	cands := make([]selector.Candidate, 0, len(rs)+len(f.k.cfg.Relays))
	for _, r := range rs {
		if len(r.URLs) == 0 {
			continue
		}
		cands = append(cands, selector.Candidate{
			ID: r.ID, Region: r.Region, Location: selector.Location{Lat: r.Lat, Lon: r.Lon}, HasLocation: r.HasLocation,
			Capacity: r.Capacity, Allocations: r.Allocations, Bitrate: r.Bitrate, LastReport: r.ReportedAt, Draining: r.Draining,
		})
	}
	for _, r := range f.k.cfg.Relays {
		if len(r.URLs) > 0 {
			cands = append(cands, selector.Candidate{ID: r.ID, Region: r.Region, LastReport: now})
		}
	}
	c, err := f.sel.Select(selector.Request{ClientIP: host, FixedRegion: fixed, PreferredRegion: preferred, EnabledRegions: enabled}, cands)
	switch {
	case errors.Is(err, selector.ErrRegionNotEnabled):
		return RelayEndpoint{}, fmt.Errorf("%w: a region the request names (%q, %q) is not enabled for this app", ErrBadRequest, fixed, preferred)
	case errors.Is(err, selector.ErrRegionUnavailable):
		return RelayEndpoint{}, fmt.Errorf("%w: region %q has no healthy relay", ErrNoRelay, fixed)
	case err != nil:
		return RelayEndpoint{}, fmt.Errorf("%w: every relay is offline, draining or full", ErrNoRelay)
	}
	rel, _ := f.endpoint(ctx, c.ID)
	return rel, nil
}

// endpoint returns a relay of the registry by ID, whatever its health: a
// gateway stays pinned to the relay its sessions are on.
func (f *fleet) endpoint(ctx context.Context, id string) (RelayEndpoint, bool) {
	rs, err := f.relays(ctx)
	if err != nil {
		return RelayEndpoint{}, false
	}
	for _, r := range rs {
		if r.ID == id && len(r.URLs) > 0 {
			return RelayEndpoint{ID: r.ID, Region: r.Region, URLs: r.URLs}, true
		}
	}
	for _, r := range f.k.cfg.Relays {
		if r.ID == id {
			return r, true
		}
	}
	return RelayEndpoint{}, false
}

// SetRelayDraining marks a relay as draining (it keeps its sessions and
// gets no new ones) or takes it back into service.
func (k *Kit) SetRelayDraining(ctx context.Context, relayID string, draining bool) error {
	if err := k.store.SetRelayDraining(ctx, relayID, draining); err != nil {
		return fmt.Errorf("turnkit: relay %s draining %v: %w", relayID, draining, err)
	}
	k.fleet.forget()
	return nil
}
