package turnkit

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

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
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex // guards the cache
	cached   []store.RelayRecord
	cachedAt time.Time
}

func newFleet(k *Kit, cfg FleetConfig) *fleet {
	return &fleet{k: k, cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
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
		if err := f.k.store.ReportRelayLoad(ctx, r.ID(), r.Stats().Allocations, 0, now); err != nil {
			f.k.log.Error("relay load report failed", "relay", r.ID(), "err", err)
		}
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

// healthy reports whether a relay may take a new session at now.
func (f *fleet) healthy(r store.RelayRecord, now time.Time) bool {
	return !r.Draining && len(r.URLs) > 0 && now.Sub(r.ReportedAt) <= f.cfg.OfflineAfter &&
		(r.Capacity <= 0 || r.Allocations < r.Capacity)
}

// choose picks the relay for a new session: among healthy relays in the
// registry and the static ones from Config.Relays, the least loaded
// (allocations over capacity, or allocations without one), lowest ID on a
// tie. The host IP is accepted for selection by location.
func (f *fleet) choose(ctx context.Context, _ netip.Addr) (RelayEndpoint, error) {
	rs, err := f.relays(ctx)
	if err != nil {
		return RelayEndpoint{}, err
	}
	now := f.k.cfg.Now()
	var best *store.RelayRecord
	bestLoad := 0.0
	for i := range rs {
		r := &rs[i]
		if !f.healthy(*r, now) {
			continue
		}
		load := float64(r.Allocations)
		if r.Capacity > 0 {
			load /= float64(r.Capacity)
		}
		if best == nil || load < bestLoad || (load == bestLoad && r.ID < best.ID) {
			best, bestLoad = r, load
		}
	}
	if best != nil {
		return RelayEndpoint{ID: best.ID, Region: best.Region, URLs: best.URLs}, nil
	}
	for _, r := range f.k.cfg.Relays {
		if len(r.URLs) > 0 {
			return r, nil
		}
	}
	return RelayEndpoint{}, fmt.Errorf("%w: every relay is offline, draining or full", ErrNoRelay)
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
