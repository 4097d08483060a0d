package turnkit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// Config configures a Kit. The zero value is ready to use: state in the
// SQLite file "turnkit.db", one in-process relay on UDP and TCP
// 127.0.0.1:3478, a relay secret generated on first run and kept in the
// file.
type Config struct {
	// DBPath is the SQLite file. Defaults to "turnkit.db". Ignored when
	// PostgresDSN or Store is set.
	DBPath string
	// PostgresDSN, if set, is a PostgreSQL connection string
	// ("postgres://user@host/db"): the Kit opens store/postgres on it
	// instead of the SQLite file, so that many issuers and relays share
	// one database and see each other's changes at once (LISTEN/NOTIFY).
	// Ignored when Store is set.
	PostgresDSN string
	// Store, if set, is used instead of opening DBPath or PostgresDSN. The
	// Kit does not close it.
	Store store.Store

	// Relay configures the in-process relay. Its Secrets, Authenticator,
	// Admitter and Sink are set by the Kit. See relay.Config for the
	// defaults; the relay's ID defaults to one derived from the host and
	// the ports it binds, unique per running relay.
	Relay relay.Config
	// NoRelay runs no in-process relay: the Kit only issues credentials,
	// for the relays of the registry and of Relays.
	NoRelay bool
	// Relays are relays outside this process (for example coturn with the
	// same static-auth-secret) the Issuer may send clients to, next to
	// those of the registry.
	Relays []RelayEndpoint

	// RelaySecret, if set, is the secret credentials are signed with, for
	// sharing with relays outside this process and with the other nodes
	// of a fleet (give every node the same one). It becomes the signing
	// secret once the relay's listeners are bound (the previous one keeps
	// verifying for MaxTTL and a minute). If empty, a random secret is
	// generated on first run and kept in the store.
	RelaySecret string

	// DefaultTTL is the credential lifetime when a request names none.
	// Defaults to 10 minutes.
	DefaultTTL time.Duration
	// MaxTTL is the longest credential lifetime a request may ask for.
	// Defaults to 24 hours.
	MaxTTL time.Duration

	// MaxBodyBytes limits request bodies and query strings; larger ones
	// get 413. Defaults to 4096.
	MaxBodyBytes int64

	// KeyCacheSize is how many API keys and apps are cached. Defaults to
	// 10000.
	KeyCacheSize int
	// KeyCacheTTL is how long a cached key or app status is trusted: the
	// longest another node sharing the store takes to see a revocation or
	// a pause when the store carries no notifications (the PostgreSQL
	// store does, within about a second). Defaults to 30 seconds.
	KeyCacheTTL time.Duration

	// RateLimits bounds how fast credentials are issued over HTTP per API
	// key and per app; over it, requests get 429 with Retry-After. Go
	// calls to the Issuer are not limited unless they ask.
	RateLimits RateLimits
	// FailureLimits bounds how many invalid API keys one client address
	// may try over HTTP.
	FailureLimits FailureLimits
	// ClientIP returns the address of a request's client, for relay
	// choice and the failed-key limit (never stored or logged). Defaults
	// to RemoteIP (the connection's peer); behind a reverse proxy, return
	// the address it forwards.
	ClientIP func(*http.Request) netip.Addr

	// RegionAliases maps the region slugs that vendor-shaped requests send
	// (Metered's "europe", Baton's "eu-central", Turnix's "singapore") to
	// the relay regions (relay.Config.Region) they stand for, adding to
	// or replacing the entries of selector.DefaultAliases, which knows
	// every slug of the vendors' documents and points them at regions
	// named us-east, us-central, us-west, ca-central, ca-east,
	// eu-central, eu-west, uk-london, in-mumbai, ap-singapore, ap-east
	// and ap-sydney. An entry with an empty list makes its slug mean any
	// region, as "global" and "standard" do. A slug outside the table is
	// a 400. Defaults to the default table alone.
	RegionAliases map[string][]string

	// GeoIPPath is a MaxMind GeoIP2 or GeoLite2 City database, to send each
	// session to the relay nearest the host IP. Without one, relays are
	// chosen by region and load alone.
	GeoIPPath string

	// Fleet configures the relay registry: reports, health and the
	// in-process relay's location and capacity.
	Fleet FleetConfig

	// Exchange bounds the peer-address exchange of POST /v1/exchange. The
	// Kit sets its Store and Now.
	Exchange ExchangeConfig

	// Billing configures metering and the ledger. Its zero value charges
	// usage to the ledger but never refuses a credential for the balance.
	Billing BillingConfig

	// AdminToken is the token of the admin API and dashboard
	// (Kit.AdminHandler): requests carry it as "Authorization: Bearer
	// <token>". It must be 16 to 256 printable ASCII characters without
	// spaces; generate it (32 random base32 characters, say) rather than
	// choose it. If it and AdminTokenHash are empty, the admin handler
	// answers every request with 503.
	AdminToken string
	// AdminTokenHash is the SHA-256 of the admin token, for a deployment
	// that keeps only the hash (as the quickstart does, in the store's
	// settings). It is used when AdminToken is empty; setting both to
	// values that disagree is an error.
	AdminTokenHash [32]byte

	// OnEvent, if set, is told what happens to sessions, balances, relays,
	// keys and apps (see EventKind for the kinds and the fields each
	// sets). The Kit calls it from one goroutine of its own, in order,
	// never from the packet path or inside a ledger transaction: events
	// wait in a queue of 1024, and when it is full further events are
	// dropped (Stats.EventsDropped) rather than hold up the relay. Close
	// delivers the events already queued and waits for OnEvent to return;
	// it must return. Events never carry an address, a username, an API
	// key or a secret. Events of changes made on other nodes of a fleet
	// are told by those nodes, except a relay's offline and online
	// crossings, which every node that sweeps the registry tells.
	OnEvent func(ctx context.Context, ev Event)

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
	if err := c.checkAdminToken(); err != nil {
		return c, err
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
	if c.ClientIP == nil {
		c.ClientIP = RemoteIP
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
	if c.Exchange.Now == nil {
		c.Exchange.Now = c.Now
	}
	return c, nil
}
