package turnkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
	"github.com/turnkit/turnkit/store/sqlite"
)

// Kit is turnkit wired in one value: it opens the store, builds the key
// ring, the Ledger, the GatewayStore, the Exchange and the Issuer from
// Config, starts the in-process relay and keeps the fleet registry, and
// serves the HTTP handlers. Each of those types can also be built alone
// with its constructor. A Kit is safe for concurrent use; two Kits in one
// process share nothing.
type Kit struct {
	cfg       Config
	log       *slog.Logger
	store     store.Store
	ownsStore bool
	reader    httpx.Reader
	bearer    http.Handler   // the Bearer form of POST /v1/credentials; nil: 400
	compat    compatHandlers // the vendor-shaped handlers (compat_backend.go)
	statics   *staticCache   // static credentials, for the relay and Metered's endpoints

	ring     *KeyRing
	ledger   *Ledger
	gateways *GatewayStore
	exchange *Exchange
	issuer   *Issuer
	registry *registry
	relay    *relay.Server
	geo      *selector.GeoIP
	fleet    FleetConfig

	announced bool          // the relay is in the registry
	stop      chan struct{} // closed by Close to stop the background loop
	done      sync.WaitGroup
	closeOnce sync.Once

	// lastBytes and lastAt are the relay's byte count at the previous
	// load report; only Sweep uses them, under sweepMu.
	sweepMu   sync.Mutex
	lastBytes int64
	lastAt    time.Time
	watch     relayWatch // the registry's health between Sweeps

	stats  kitStats    // counters for Stats (stats.go)
	events *eventQueue // Config.OnEvent's queue; nil without one
}

// Open opens the store, loads the key ring, starts the in-process relay,
// puts a signing secret in service once the relay's listeners are bound,
// registers the relay in the fleet and returns the Kit. A start that fails
// leaves nothing behind: no secret rotated, no relay registered. Close
// releases all of it.
func Open(ctx context.Context, cfg Config) (_ *Kit, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	k := &Kit{cfg: cfg, log: cfg.Logger, store: cfg.Store, reader: newReader(cfg.MaxBodyBytes), stop: make(chan struct{})}
	k.events = newEventQueue(cfg.OnEvent, eventQueueSize, &k.stats, cfg.Logger)
	defer func() {
		if err != nil {
			_ = k.Close()
		}
	}()
	if k.store == nil {
		if k.store, err = openStore(ctx, cfg); err != nil {
			return nil, err
		}
		k.ownsStore = true
	}
	if k.ring, err = NewKeyRing(ctx, KeyRingConfig{Store: k.store, Overlap: cfg.MaxTTL + time.Minute, Now: cfg.Now}); err != nil {
		return nil, err
	}
	if k.ledger, err = NewLedger(LedgerConfig{Store: k.store, Billing: k.withLowBalanceEvent(cfg.Billing), Logger: cfg.Logger, Now: cfg.Now}); err != nil {
		return nil, err
	}
	k.ledger.stats = &k.stats
	if k.gateways, err = NewGatewayStore(ctx, GatewayStoreConfig{Settings: k.store, Pins: k.store}); err != nil {
		return nil, err
	}
	xc := cfg.Exchange
	xc.Store = k.store
	if k.exchange, err = NewExchange(xc); err != nil {
		return nil, err
	}
	relayMax := 0
	if !cfg.NoRelay {
		relayMax = cfg.Relay.MaxAllocations
	}
	var loc selector.Locator
	if cfg.GeoIPPath != "" {
		if k.geo, err = selector.OpenGeoIP(cfg.GeoIPPath); err != nil {
			return nil, fmt.Errorf("turnkit: %w", err)
		}
		loc = k.geo
	}
	k.fleet = cfg.Fleet.withDefaults(relayMax)
	if k.registry, err = newRegistry(k.store, loc, k.fleet, cfg.Relays, cfg.Now); err != nil {
		return nil, err
	}
	if k.issuer, err = NewIssuer(IssuerConfig{
		Store: k.store, KeyRing: k.ring, Relays: k.registry, Ledger: k.ledger, Gateways: k.gateways, Metadata: k.store,
		DefaultTTL: cfg.DefaultTTL, MaxTTL: cfg.MaxTTL, RateLimits: cfg.RateLimits, FailureLimits: cfg.FailureLimits,
		KeyCacheSize: cfg.KeyCacheSize, KeyCacheTTL: cfg.KeyCacheTTL, Logger: cfg.Logger, Now: cfg.Now,
	}); err != nil {
		return nil, err
	}
	if err := k.openCompat(); err != nil {
		return nil, err
	}
	if !cfg.NoRelay {
		if err := k.startRelay(ctx); err != nil {
			return nil, err
		}
	}
	// The secret is put in service only now that the relay's listeners are
	// bound: a start that failed has changed nothing.
	if _, err := k.ring.EnsureSecret(ctx, []byte(cfg.RelaySecret)); err != nil {
		return nil, err
	}
	if k.relay != nil {
		if err := k.announce(ctx); err != nil {
			return nil, err
		}
	}
	k.startBackground()
	return k, nil
}

// openStore opens the store Config names: PostgreSQL for a DSN, else the
// SQLite file.
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	if cfg.PostgresDSN != "" {
		st, err := postgres.Open(ctx, cfg.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("turnkit: open PostgreSQL store: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("turnkit: open SQLite store %s: %w", cfg.DBPath, err)
	}
	return st, nil
}

// IsPostgresDSN reports whether s is a PostgreSQL URL (postgres:// or
// postgresql://) rather than a file path, for programs whose -db flag
// takes either.
func IsPostgresDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// startRelay starts the in-process relay on the Kit's hooks and closes the
// sessions a dead predecessor of the same relay left open.
func (k *Kit) startRelay(ctx context.Context) error {
	hooks := &relayHooks{
		rest: relay.NewRESTAuthenticator(k.ring), ring: k.ring, auth: k.issuer.auth, static: k.statics, sessions: k.store, meta: k.store,
		ledger: k.ledger, log: k.log, now: k.cfg.Now, stats: &k.stats, events: k.events,
	}
	rc := k.cfg.Relay
	rc.Secrets, rc.Authenticator, rc.Admitter, rc.Sink = nil, hooks, hooks, hooks
	r, err := relay.New(rc)
	if err != nil {
		return fmt.Errorf("turnkit: start relay: %w", err)
	}
	k.relay = r
	if k.fleet.Capacity <= 0 {
		k.fleet.Capacity = r.MaxAllocations()
	}
	return k.takeOverRelayID(ctx)
}

// takeOverRelayID makes sure no other running relay holds the relay's ID,
// then closes the sessions that earlier instances of it left open. A relay
// whose ID is derived from its host and bound ports cannot share it with a
// running one (the ports are its), so an earlier instance is dead. For a
// configured ID that another instance reported under within OfflineAfter,
// Open watches the registry for up to one and a half ReportIntervals: if
// that instance reports again it is alive, and Open fails rather than cut
// its calls; if not, it died (a crash and a restart), and its sessions
// are closed.
func (k *Kit) takeOverRelayID(ctx context.Context) error {
	id, mine := k.relay.ID(), k.relay.Instance()
	if k.cfg.Relay.ID != "" {
		if err := k.checkRelayIDFree(ctx, id, mine); err != nil {
			return err
		}
	}
	n, err := k.store.CloseRelaySessions(ctx, id, mine, k.cfg.Now().UTC())
	if err != nil {
		return fmt.Errorf("turnkit: close stale sessions of relay %s: %w", id, err)
	}
	if n > 0 {
		k.log.Info("closed sessions left by a previous run of the relay", "relay", id, "sessions", n)
	}
	return nil
}

// checkRelayIDFree fails if another live instance reports under id.
func (k *Kit) checkRelayIDFree(ctx context.Context, id, mine string) error {
	other, ok, err := k.relayRecord(ctx, id)
	if err != nil || !ok || other.Instance == mine || k.cfg.Now().Sub(other.ReportedAt) >= k.fleet.OfflineAfter {
		return err
	}
	interval := k.fleet.ReportInterval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	deadline := time.NewTimer(interval * 3 / 2)
	defer deadline.Stop()
	poll := time.NewTicker(max(interval/10, 10*time.Millisecond))
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil // it did not report again: it is gone
		case <-poll.C:
		}
		now, ok, err := k.relayRecord(ctx, id)
		if err != nil {
			return err
		}
		if ok && now.Instance == other.Instance && now.ReportedAt.After(other.ReportedAt) {
			return fmt.Errorf("turnkit: relay ID %s is in use by a running relay (it reported %s ago); give each relay its own ID",
				id, k.cfg.Now().Sub(now.ReportedAt).Round(time.Millisecond))
		}
	}
}

// relayRecord returns the registry's record of a relay.
func (k *Kit) relayRecord(ctx context.Context, id string) (store.RelayRecord, bool, error) {
	rs, err := k.store.ListRelays(ctx)
	if err != nil {
		return store.RelayRecord{}, false, fmt.Errorf("turnkit: relay registry: %w", err)
	}
	for _, r := range rs {
		if r.ID == id {
			return r, true, nil
		}
	}
	return store.RelayRecord{}, false, nil
}

// Handler returns turnkit's HTTP API, to mount on any mux:
// POST /v1/credentials (native, and Baton's with a Bearer key), POST
// /v1/exchange, and the vendor-shaped endpoints of package compat: Turnix's
// POST /credentials/ice (and /api/v1/credentials/ice), Metered's
// /api/v1/turn/credentials, /api/v1/turn/credential and
// /api/v1/turn/credential/by_label. Paths outside it get 404.
func (k *Kit) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/credentials", k.CredentialsHandler())
	mux.Handle("/v1/exchange", k.ExchangeHandler())
	vendors := http.NewServeMux()
	k.mountCompat(vendors)
	mux.Handle("/", k.countVendors(vendors))
	return mux
}

// Issuer returns the Kit's credential issuer, for minting credentials from
// Go without HTTP.
func (k *Kit) Issuer() *Issuer { return k.issuer }

// Ledger returns the billing ledger: balances, top-ups, plans, journal.
func (k *Kit) Ledger() *Ledger { return k.ledger }

// Gateways returns the Kit's gateway store.
func (k *Kit) Gateways() *GatewayStore { return k.gateways }

// Exchange returns the peer-address exchange, for use from Go.
func (k *Kit) Exchange() *Exchange { return k.exchange }

// KeyRing returns the relay secrets, for rotation.
func (k *Kit) KeyRing() *KeyRing { return k.ring }

// Relay returns the in-process relay, or nil when Config.NoRelay is set.
func (k *Kit) Relay() *relay.Server { return k.relay }

// Relays returns the Kit's relay chooser: the fleet registry and
// Config.Relays.
func (k *Kit) Relays() RelayChooser { return k.registry }

// Store returns the Kit's store.
func (k *Kit) Store() store.Store { return k.store }

// Close takes the relay out of the registry (so issuers stop sending
// clients to it at once), stops it (ending its sessions in the store),
// stops the background work and closes the store if the Kit opened it.
// Calling it again returns nil.
func (k *Kit) Close() error {
	var errs []error
	k.closeOnce.Do(func() {
		close(k.stop)
		k.done.Wait()
		if k.announced {
			errs = append(errs, k.deregister())
		}
		if k.relay != nil {
			errs = append(errs, k.relay.Close())
		}
		k.events.close() // after the relay's last session events
		if k.geo != nil {
			errs = append(errs, k.geo.Close())
		}
		if k.ownsStore && k.store != nil {
			errs = append(errs, k.store.Close())
		}
	})
	return errors.Join(errs...)
}
