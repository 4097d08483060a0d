package turnkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// Metadata is what a credential request may say about its session (room
// and client names); it is recorded on the session, never with an address.
type Metadata = store.Metadata

// Caller is who an API key authenticates: the app and the key's ID.
type Caller struct {
	// AppID is the app the key belongs to.
	AppID string
	// KeyID identifies the key (not secret).
	KeyID string
}

// CredentialRequest asks the Issuer for a TURN credential.
type CredentialRequest struct {
	// AppID is the app the credential is for. Required.
	AppID string
	// KeyID is the API key the request was authenticated with, from
	// Authenticate. When set, the credential carries it, so that revoking
	// the key stops the credential from opening allocations. Go callers
	// that issue for their own app leave it empty.
	KeyID string
	// RateLimit applies the per-key and per-app issuance limits (429 past
	// them). The HTTP handlers set it; in-process callers usually do not.
	RateLimit bool
	// HostIP is the address of the host peer, used to choose a relay; it
	// is never stored or logged. The zero value means unknown.
	HostIP netip.Addr
	// TTL is the credential's lifetime. Zero means the Issuer's default
	// (10 minutes). It is rounded up to whole seconds and must not exceed
	// the Issuer's maximum. It must be zero with Gateway.
	TTL time.Duration
	// FixedRegion, if set, is the only region the relay may be in: without
	// a healthy relay there the request fails (503).
	FixedRegion string
	// PreferredRegion, if set, is tried first, with a fallback to the
	// nearest healthy relay elsewhere.
	PreferredRegion string
	// FixedRegions and PreferredRegions are the set forms of FixedRegion
	// and PreferredRegion (any region of the set will do), for a region
	// alias that names several regions (see Config.RegionAliases).
	FixedRegions, PreferredRegions []string
	// Gateway, if set, is a gateway ID: the credential lasts GatewayTTL
	// (3 minutes) and is pinned to the relay where the gateway has an
	// active session; the reserve is for one allocation.
	Gateway string
	// Metadata, if any, is recorded on the session the credential opens.
	Metadata Metadata
}

// Credential is a short-lived TURN credential in the TURN REST API form.
type Credential struct {
	// Username is "{expiry_unix}:{app_id}_{key_id}.{nonce}", followed by
	// the optional fields of relay.Username.
	Username string
	// Password is base64(HMAC-SHA1(relay secret, Username)).
	Password string
	// URLs are the chosen relay's ICE server URLs.
	URLs []string
	// TTL is the lifetime the credential was issued for.
	TTL time.Duration
	// Expires is when the credential stops opening allocations.
	Expires time.Time
	// AppID is the app the credential belongs to.
	AppID string
	// RelayID and Region identify the chosen relay.
	RelayID, Region string
}

// IssuerConfig configures an Issuer. Store, KeyRing and Relays are
// required; the other fields have the documented defaults.
type IssuerConfig struct {
	// Store holds the apps and their API keys.
	Store IssuerStore
	// KeyRing signs credentials with its current secret.
	KeyRing *KeyRing
	// Relays chooses the relay of each credential.
	Relays RelayChooser
	// Ledger, if set, checks the balance and the reserve before issuing
	// (when its billing is enforced). Nil issues without a balance check.
	Ledger *Ledger
	// Gateways, if set, resolves and pins gateways. Nil refuses gateway
	// requests with ErrBadRequest.
	Gateways *GatewayStore
	// Metadata, if set, keeps request metadata until the session opens.
	// Nil refuses requests that carry metadata.
	Metadata store.CredentialMetadata

	// DefaultTTL is the credential lifetime when a request names none.
	// Defaults to 10 minutes.
	DefaultTTL time.Duration
	// MaxTTL is the longest credential lifetime a request may ask for.
	// Defaults to 24 hours.
	MaxTTL time.Duration
	// RateLimits bounds how fast credentials are issued per API key and
	// per app, for requests with RateLimit set.
	RateLimits RateLimits
	// FailureLimits bounds the invalid API keys one source address may
	// try through AuthenticateFrom.
	FailureLimits FailureLimits
	// KeyCacheSize is how many API keys and apps are cached. Defaults to
	// 10000.
	KeyCacheSize int
	// KeyCacheTTL is how long a cached key or app status is trusted: the
	// longest another node sharing the store takes to see a revocation or
	// a pause, when the store carries no notifications. Defaults to 30
	// seconds.
	KeyCacheTTL time.Duration
	// Logger receives the Issuer's logs. It never sees API keys, secrets
	// or client addresses. Defaults to discarding logs.
	Logger *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

func (c IssuerConfig) withDefaults() (IssuerConfig, error) {
	if c.Store == nil || c.KeyRing == nil || c.Relays == nil {
		return c, fmt.Errorf("%w: issuer: Store, KeyRing and Relays are required", ErrBadRequest)
	}
	if c.DefaultTTL == 0 {
		c.DefaultTTL = 10 * time.Minute
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = 24 * time.Hour
	}
	if c.MaxTTL < time.Minute || c.DefaultTTL < 0 || c.DefaultTTL > c.MaxTTL {
		return c, fmt.Errorf("%w: issuer: DefaultTTL %s and MaxTTL %s must satisfy 0 < DefaultTTL <= MaxTTL, MaxTTL >= 1m",
			ErrBadRequest, c.DefaultTTL, c.MaxTTL)
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
	return c, nil
}

// Issuer mints TURN credentials. Authentication is apart from issuance:
// Authenticate turns an API key into a Caller, and Issue mints for an app
// ID — so every HTTP shape shares one path, and a Go caller that knows its
// app needs no key. Issue checks, in order: the request, the app's status
// (403 when paused or marked for deletion), the rate limits (when asked),
// the balance and reserve (when billing is enforced), then chooses the
// relay (a gateway's pin first) and signs the username with the key ring's
// current secret. It is safe for concurrent use.
type Issuer struct {
	cfg      IssuerConfig
	auth     *authCache
	limits   *limiters
	failures *failureLimiter // nil when off
	lookups  singleflight.Group
}

// NewIssuer returns an Issuer.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Issuer{
		cfg:      cfg,
		auth:     newAuthCache(cfg.Store, cfg.KeyCacheSize, cfg.KeyCacheTTL, cfg.Now),
		limits:   newLimiters(cfg.RateLimits, cfg.KeyCacheSize),
		failures: newFailureLimiter(cfg.FailureLimits),
	}, nil
}

// Authenticate returns the caller an API key belongs to. Errors wrap
// ErrInvalidKey (unknown or revoked keys alike), ErrAppPaused or
// ErrAppDeleting.
func (is *Issuer) Authenticate(ctx context.Context, key string) (Caller, error) {
	return is.auth.authenticate(ctx, key)
}

// AuthenticateFrom is Authenticate for a request from the source address
// src (used for the limit and dropped: never stored or logged). Keys the
// cache holds as valid are answered at once, and those it last found valid
// (their entries expired) are looked up again. Any other key spends one of
// the source's failed attempts before it is looked up, and gets it back if
// it is valid: a source that sent too many invalid keys gets an error
// wrapping ErrRateLimited (a *RateLimitError with Scope "source") without
// its key reaching the store. A brute force is throttled to
// FailureLimits.Rate guesses a second, and honest clients behind the same
// address whose key is in use keep working.
//
// Requests from one source with one key that miss the cache at the same
// time — a backend's burst on a key's first use, or when its cache entry
// expires — share one lookup and at most one attempt, so that a crowd of
// concurrent requests with a valid key is never refused for outnumbering
// FailureLimits.Burst.
func (is *Issuer) AuthenticateFrom(ctx context.Context, key string, src netip.Addr) (Caller, error) {
	c, fresh, known := is.auth.cached(key)
	if fresh {
		return c, is.auth.checkApp(ctx, c.AppID)
	}
	v, err := is.attempt(ctx, 'k', hashKey(key), src, known, func(ctx context.Context) (any, bool, error) {
		c, err := is.auth.authenticate(ctx, key)
		return c, !errors.Is(err, ErrInvalidKey), err
	})
	c, _ = v.(Caller)
	return c, err
}

// attempt looks up a key that the caches do not hold as valid now (kind
// names what the key opens, h is its hash). Unless the key is known, one
// of src's failed attempts is spent first, refused with a *RateLimitError
// when src has none left, and given back when lookup reports the key
// valid; a known key (valid at its last lookup, its cache entry expired)
// is looked up again without one, so that an address an attacker has
// throttled keeps the keys it uses. Attempts with the same key from the
// same source at the same time share one lookup and one attempt. The
// lookup runs without ctx's cancellation, since it serves every request
// of the flight; a request whose ctx ends stops waiting.
func (is *Issuer) attempt(ctx context.Context, kind byte, h [32]byte, src netip.Addr, known bool,
	lookup func(context.Context) (v any, valid bool, err error)) (any, error) {
	// The flight's name holds the address only while the lookup runs.
	a := src.Unmap().As16()
	flight := string(kind) + string(h[:]) + string(a[:])
	done := is.lookups.DoChan(flight, func() (any, error) {
		if !known {
			if ok, wait := is.failures.take(src, is.cfg.Now()); !ok {
				return nil, &RateLimitError{Scope: "source", RetryAfter: wait}
			}
		}
		v, valid, err := lookup(context.WithoutCancel(ctx))
		if valid && !known {
			is.failures.refund(src)
		}
		return v, err
	})
	select {
	case r := <-done:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Issue checks the request and mints a credential. Errors wrap
// ErrBadRequest, ErrInvalidKey (an unknown app), ErrAppPaused,
// ErrAppDeleting, ErrForeignGateway, ErrRegionNotEnabled,
// ErrInsufficientBalance, ErrRateLimited (as a *RateLimitError) or
// ErrNoRelay.
func (is *Issuer) Issue(ctx context.Context, req *CredentialRequest) (*Credential, error) {
	if !relay.ValidAppID(req.AppID) {
		return nil, fmt.Errorf("%w: app ID %q is not valid", ErrBadRequest, clip(req.AppID))
	}
	if err := checkMetadata(req.Metadata); err != nil {
		return nil, err
	}
	if !req.Metadata.IsZero() && is.cfg.Metadata == nil {
		return nil, fmt.Errorf("%w: this issuer keeps no session metadata", ErrBadRequest)
	}
	ttl := req.TTL
	var gw Gateway
	if req.Gateway != "" {
		if ttl != 0 {
			return nil, fmt.Errorf("%w: a gateway credential has a fixed TTL of %s; omit the TTL", ErrBadRequest, GatewayTTL)
		}
		ttl = GatewayTTL
		var err error
		if gw, err = is.resolveGateway(req.AppID, req.Gateway); err != nil {
			return nil, err
		}
	}
	if ttl == 0 {
		ttl = is.cfg.DefaultTTL
	}
	if ttl < 0 || ttl > is.cfg.MaxTTL {
		return nil, fmt.Errorf("%w: ttl %s must be positive and at most %s", ErrBadRequest, ttl, is.cfg.MaxTTL)
	}
	ttl = (ttl + time.Second - 1).Truncate(time.Second)
	app, err := is.auth.app(ctx, req.AppID)
	if err != nil {
		return nil, err
	}
	if err := statusError(req.AppID, app.status); err != nil {
		return nil, err
	}
	if req.RateLimit {
		if err := is.limits.allow(req.KeyID, req.AppID, is.cfg.Now()); err != nil {
			return nil, err
		}
	}
	if is.cfg.Ledger != nil {
		if err := is.cfg.Ledger.checkIssue(ctx, req.AppID, ttl, gw.ID != ""); err != nil {
			return nil, err
		}
	}
	q := RelayQuery{HostIP: req.HostIP, FixedRegion: req.FixedRegion, PreferredRegion: req.PreferredRegion, EnabledRegions: app.regions,
		FixedRegions: req.FixedRegions, PreferredRegions: req.PreferredRegions}
	var rel RelayEndpoint
	if gw.ID != "" {
		rel, err = is.gatewayRelay(ctx, gw, q)
	} else {
		rel, err = is.cfg.Relays.ChooseRelay(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	signer, secret := is.cfg.KeyRing.Current()
	if signer == "" {
		return nil, fmt.Errorf("turnkit: the key ring has no signing secret")
	}
	expires := is.cfg.Now().Add(ttl).Truncate(time.Second)
	nonce := randomToken(10)[:16]
	if !req.Metadata.IsZero() {
		nonce = metadataNonce + nonce[1:]
	} else if nonce[0] == metadataNonce[0] {
		nonce = "a" + nonce[1:]
	}
	u := relay.Username{Expires: expires, AppID: req.AppID, KeyID: signer, Nonce: nonce, APIKey: req.KeyID, Gateway: gw.Tag}
	name := u.String()
	if !req.Metadata.IsZero() {
		if err := is.cfg.Metadata.PutCredentialMetadata(ctx, name, req.Metadata, expires.Add(time.Minute)); err != nil {
			return nil, fmt.Errorf("turnkit: record session metadata: %w", err)
		}
	}
	return &Credential{
		Username: name,
		Password: relay.Credential(secret, name),
		URLs:     rel.URLs,
		TTL:      ttl,
		Expires:  expires,
		AppID:    req.AppID,
		RelayID:  rel.ID,
		Region:   rel.Region,
	}, nil
}

// metadataNonce starts the nonce of a credential whose request carried
// metadata, so that its session's start looks the metadata up; other
// nonces never start with it, and their sessions skip the lookup.
const metadataNonce = "m"

// hasMetadata reports whether a username was minted with metadata.
func hasMetadata(username string) bool {
	u, err := relay.ParseUsername(username)
	return err == nil && len(u.Nonce) > 0 && u.Nonce[:1] == metadataNonce
}

// checkMetadata bounds request metadata: printable text, no control
// characters, each field at most store.MaxMetadataLen bytes.
func checkMetadata(m Metadata) error {
	for _, f := range []struct{ name, v string }{{"room", m.Room}, {"initiator", m.Initiator}, {"receiver", m.Receiver}} {
		if len(f.v) > store.MaxMetadataLen {
			return fmt.Errorf("%w: %s is %d bytes, at most %d", ErrBadRequest, f.name, len(f.v), store.MaxMetadataLen)
		}
		if !printable(f.v) {
			return fmt.Errorf("%w: %s holds a control character or invalid UTF-8", ErrBadRequest, f.name)
		}
	}
	return nil
}

// GatewayRequest asks the Issuer for a new gateway.
type GatewayRequest struct {
	// AppID is the app the gateway is for. Required.
	AppID string
	// KeyID is the API key the request was authenticated with, if any.
	KeyID string
	// RateLimit applies the issuance rate limits, as for credentials.
	RateLimit bool
	// HostIP chooses the gateway's first relay, as for a credential.
	HostIP netip.Addr
}

// CreateGateway creates a gateway for the app: a persistent relay
// reservation whose ID the embedder keeps for the lifetime of a room. The
// balance is not checked here: it is checked at every credential issued
// through the gateway.
func (is *Issuer) CreateGateway(ctx context.Context, req *GatewayRequest) (string, error) {
	if is.cfg.Gateways == nil {
		return "", fmt.Errorf("%w: this issuer has no gateways", ErrBadRequest)
	}
	app, err := is.auth.app(ctx, req.AppID)
	if err != nil {
		return "", err
	}
	if err := statusError(req.AppID, app.status); err != nil {
		return "", err
	}
	if req.RateLimit {
		if err := is.limits.allow(req.KeyID, req.AppID, is.cfg.Now()); err != nil {
			return "", err
		}
	}
	rel, err := is.cfg.Relays.ChooseRelay(ctx, RelayQuery{HostIP: req.HostIP, EnabledRegions: app.regions})
	if err != nil {
		return "", err
	}
	return is.cfg.Gateways.Create(req.AppID, rel.ID)
}

// resolveGateway decodes a gateway ID and checks that it is the app's.
func (is *Issuer) resolveGateway(appID, id string) (Gateway, error) {
	if is.cfg.Gateways == nil {
		return Gateway{}, fmt.Errorf("%w: this issuer has no gateways", ErrBadRequest)
	}
	gw, err := is.cfg.Gateways.Resolve(id)
	if err != nil {
		return Gateway{}, err
	}
	if gw.AppID != appID {
		return Gateway{}, fmt.Errorf("%w: gateway %s", ErrForeignGateway, clip(id))
	}
	return gw, nil
}

// gatewayRelay returns the relay for a credential through a gateway: the
// relay where the gateway has an active session, or else the best relay
// for the request, as for a regular credential.
func (is *Issuer) gatewayRelay(ctx context.Context, gw Gateway, q RelayQuery) (RelayEndpoint, error) {
	relayID, pinned, err := is.cfg.Gateways.Pin(ctx, gw)
	if err != nil {
		return RelayEndpoint{}, err
	}
	if pinned {
		rel, ok, err := is.cfg.Relays.RelayByID(ctx, relayID)
		if err != nil {
			return RelayEndpoint{}, err
		}
		if ok {
			return rel, nil
		}
	}
	return is.cfg.Relays.ChooseRelay(ctx, q)
}
