package turnkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// Config configures a Kit. The zero value is ready to use: state in the
// SQLite file "turnkit.db", one in-process relay on UDP and TCP
// 127.0.0.1:3478, a relay secret generated on first run and kept in the
// file.
type Config struct {
	// DBPath is the SQLite file. Defaults to "turnkit.db". Ignored when
	// Store is set.
	DBPath string
	// Store, if set, is used instead of opening DBPath. The Kit does not
	// close it.
	Store store.Store

	// Relay configures the in-process relay. Its Secrets, Admitter and Sink
	// are set by the Kit. See relay.Config for the defaults.
	Relay relay.Config
	// NoRelay runs no in-process relay: the Kit only issues credentials,
	// for the relays in Relays that share its secret.
	NoRelay bool
	// Relays are relays outside this process (for example coturn with the
	// same static-auth-secret) the Issuer may send clients to. The
	// in-process relay, when there is one, comes first.
	Relays []RelayEndpoint

	// RelaySecret, if set, is the secret credentials are signed with, for
	// sharing with relays outside this process. It becomes the signing
	// secret at Open (the previous one keeps verifying for MaxTTL). If
	// empty, a random secret is generated on first run and kept.
	RelaySecret string

	// DefaultTTL is the credential lifetime when a request names none.
	// Defaults to 10 minutes.
	DefaultTTL time.Duration
	// MaxTTL is the longest credential lifetime a request may ask for.
	// Defaults to 24 hours.
	MaxTTL time.Duration

	// MaxBodyBytes limits request bodies; larger ones get 413. Defaults to
	// 4096.
	MaxBodyBytes int64

	// KeyCacheSize is how many API keys and apps are cached. Defaults to
	// 10000.
	KeyCacheSize int
	// KeyCacheTTL is how long a cached key or app status is trusted: the
	// longest another node sharing the store takes to see a revocation or
	// a pause. Defaults to 30 seconds.
	KeyCacheTTL time.Duration

	// RateLimits bounds how fast credentials are issued per API key and
	// per app; over it, requests get 429 with Retry-After.
	RateLimits RateLimits

	// GeoIPPath is a MaxMind GeoIP2 or GeoLite2 City database, to send each
	// session to the relay nearest the host IP. Without one, relays are
	// chosen by region and load alone.
	GeoIPPath string

	// Fleet configures the relay registry: reports, health and the
	// in-process relay's location and capacity.
	Fleet FleetConfig

	// Exchange bounds the peer-address exchange of POST /v1/exchange.
	Exchange ExchangeConfig

	// Billing configures metering and the ledger. Its zero value charges
	// usage to the ledger but never refuses a credential for the balance.
	Billing BillingConfig

	// Logger receives the Kit's logs. It never sees API keys, secrets or
	// client addresses. Defaults to discarding logs.
	Logger *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.DBPath == "" {
		c.DBPath = "turnkit.db"
	}
	if c.DefaultTTL == 0 {
		c.DefaultTTL = 10 * time.Minute
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = 24 * time.Hour
	}
	if c.MaxTTL < time.Minute || c.DefaultTTL < 0 || c.DefaultTTL > c.MaxTTL {
		return c, fmt.Errorf("turnkit: config: DefaultTTL %s and MaxTTL %s must satisfy 0 < DefaultTTL <= MaxTTL, MaxTTL >= 1m", c.DefaultTTL, c.MaxTTL)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4096
	}
	if c.KeyCacheSize <= 0 {
		c.KeyCacheSize = 10000
	}
	if c.KeyCacheTTL <= 0 {
		c.KeyCacheTTL = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Relay.Now == nil {
		c.Relay.Now = c.Now
	}
	if c.Relay.Logger == nil {
		c.Relay.Logger = c.Logger
	}
	if c.Relay.ID == "" {
		c.Relay.ID = stableRelayID(c.Relay)
	}
	return c, nil
}

// Kit is turnkit in one value: storage, the key ring, the Issuer, the
// in-process relay and the HTTP handlers. It is safe for concurrent use;
// two Kits in one process share nothing.
type Kit struct {
	cfg       Config
	log       *slog.Logger
	store     store.Store
	ownsStore bool
	auth      *authCache
	ring      *KeyRing
	ledger    *Ledger
	exchange  *Exchange
	fleet     *fleet
	geo       *selector.GeoIP
	issuer    *Issuer
	relay     *relay.Server
}

// Open opens the store, loads or creates the relay secret, starts the
// in-process relay and returns the Kit. Close releases all of it.
func Open(ctx context.Context, cfg Config) (*Kit, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	k := &Kit{cfg: cfg, log: cfg.Logger, store: cfg.Store}
	if k.store == nil {
		st, err := sqlite.Open(ctx, cfg.DBPath)
		if err != nil {
			return nil, fmt.Errorf("turnkit: open store: %w", err)
		}
		k.store, k.ownsStore = st, true
	}
	k.auth = newAuthCache(k.store, cfg.KeyCacheSize, cfg.KeyCacheTTL, cfg.Now)
	k.ledger = &Ledger{st: k.store, cfg: cfg.Billing, now: cfg.Now, log: cfg.Logger}
	k.exchange = newExchange(cfg.Exchange, cfg.Now, k.store)
	overlap := cfg.MaxTTL + time.Minute
	k.ring, err = newKeyRing(ctx, k.store, cfg.RelaySecret, overlap, cfg.Now)
	if err != nil {
		k.closeStore()
		return nil, err
	}
	if !cfg.NoRelay {
		rc := cfg.Relay
		hooks := relayHooks{auth: k.auth, store: k.store, ledger: k.ledger}
		rc.Secrets, rc.Admitter, rc.Sink = k.ring, hooks, hooks
		k.relay, err = relay.New(rc)
		if err != nil {
			k.closeStore()
			return nil, fmt.Errorf("turnkit: start relay: %w", err)
		}
		// Sessions a previous process of this relay left open end now,
		// with the usage they last reported.
		n, err := k.store.CloseRelaySessions(ctx, k.relay.ID(), k.relay.Instance(), cfg.Now().UTC())
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("turnkit: close stale sessions of relay %s: %w", k.relay.ID(), err)
		}
		if n > 0 {
			k.log.Info("closed sessions left by a previous run of the relay", "relay", k.relay.ID(), "sessions", n)
		}
	}
	relayMax := 0
	if k.relay != nil {
		relayMax = k.relay.MaxAllocations()
	}
	var loc selector.Locator
	if cfg.GeoIPPath != "" {
		geo, err := selector.OpenGeoIP(cfg.GeoIPPath)
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("turnkit: %w", err)
		}
		k.geo, loc = geo, geo
	}
	k.fleet, err = newFleet(k, cfg.Fleet.withDefaults(relayMax), loc)
	if err != nil {
		k.Close()
		return nil, err
	}
	if k.relay != nil {
		if err := k.fleet.announce(ctx); err != nil {
			k.Close()
			return nil, err
		}
	}
	go k.fleet.run()
	gw, err := loadGateways(ctx, k.store)
	if err != nil {
		k.Close()
		return nil, err
	}
	k.issuer = &Issuer{
		auth: k.auth, ring: k.ring, ledger: k.ledger, choose: k.fleet.choose, endpoint: k.fleet.endpoint,
		sessions: k.store, gateways: gw, now: cfg.Now,
		limits:     newLimiters(cfg.RateLimits, cfg.KeyCacheSize),
		defaultTTL: cfg.DefaultTTL, maxTTL: cfg.MaxTTL,
	}
	return k, nil
}

// Handler returns turnkit's HTTP API, to mount on any mux:
// POST /v1/credentials and POST /v1/exchange. Paths outside it get 404.
func (k *Kit) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/credentials", k.CredentialsHandler())
	mux.Handle("/v1/exchange", k.ExchangeHandler())
	return mux
}

// Exchange returns the peer-address exchange, for use from Go.
func (k *Kit) Exchange() *Exchange { return k.exchange }

// Issuer returns the Kit's credential issuer, for minting credentials from
// Go without HTTP.
func (k *Kit) Issuer() *Issuer { return k.issuer }

// Ledger returns the billing ledger: balances, top-ups, plans, journal.
func (k *Kit) Ledger() *Ledger { return k.ledger }

// KeyRing returns the relay secrets, for rotation.
func (k *Kit) KeyRing() *KeyRing { return k.ring }

// Relay returns the in-process relay, or nil when Config.NoRelay is set.
func (k *Kit) Relay() *relay.Server { return k.relay }

// Store returns the Kit's store.
func (k *Kit) Store() store.Store { return k.store }

// Close stops the relay (ending its sessions in the store) and closes the
// store if the Kit opened it.
func (k *Kit) Close() error {
	var errs []error
	if k.fleet != nil {
		k.fleet.close()
		k.fleet = nil
	}
	if k.relay != nil {
		errs = append(errs, k.relay.Close())
	}
	if k.geo != nil {
		errs = append(errs, k.geo.Close())
		k.geo = nil
	}
	errs = append(errs, k.closeStore())
	return errors.Join(errs...)
}

func (k *Kit) closeStore() error {
	if k.ownsStore {
		return k.store.Close()
	}
	return nil
}
