package turnkit

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// RelayEndpoint is a relay the Issuer can send clients to.
type RelayEndpoint struct {
	// ID identifies the relay.
	ID string
	// Region is the relay's region slug.
	Region string
	// URLs are the relay's ICE server URLs (stun:, turn:, turns:).
	URLs []string
}

// CredentialRequest asks the Issuer for a TURN credential.
type CredentialRequest struct {
	// Key is the app's API key. Required.
	Key string
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
	// Gateway, if set, is a gateway ID from CreateGateway: the credential
	// lasts GatewayTTL (3 minutes) and is pinned to the relay where the
	// gateway has an active session; the reserve is for one allocation.
	Gateway string
}

// Credential is a short-lived TURN credential in the TURN REST API form.
type Credential struct {
	// Username is "{expiry_unix}:{app_id}_{key_id}.{nonce}".
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

// Issuer mints TURN credentials: API key → app → app status → balance and
// reserve check (when billing is enforced) → relay choice
// → username and password signed with the current relay secret. It is safe
// for concurrent use.
type Issuer struct {
	auth       *authCache
	ring       *KeyRing
	ledger     *Ledger
	limits     *limiters
	choose     func(ctx context.Context, host netip.Addr, fixed, preferred string, enabled []string) (RelayEndpoint, error)
	endpoint   func(context.Context, string) (RelayEndpoint, bool)
	sessions   store.SessionStats
	gateways   *gateways
	now        func() time.Time
	defaultTTL time.Duration
	maxTTL     time.Duration
}

// Issue checks the request and mints a credential. Errors wrap
// ErrBadRequest, ErrInvalidKey, ErrAppPaused, ErrAppDeleting,
// ErrInsufficientBalance, ErrRateLimited (as a *RateLimitError) or
// ErrNoRelay.
func (is *Issuer) Issue(ctx context.Context, req *CredentialRequest) (*Credential, error) {
	if req.Key == "" {
		return nil, fmt.Errorf("%w: key is required", ErrBadRequest)
	}
	ttl := req.TTL
	if req.Gateway != "" {
		if ttl != 0 {
			return nil, fmt.Errorf("%w: a gateway credential has a fixed TTL of %s; omit the TTL", ErrBadRequest, GatewayTTL)
		}
		ttl = GatewayTTL
	}
	if ttl == 0 {
		ttl = is.defaultTTL
	}
	if ttl < 0 || ttl > is.maxTTL {
		return nil, fmt.Errorf("%w: ttl %s must be positive and at most %s", ErrBadRequest, ttl, is.maxTTL)
	}
	ttl = (ttl + time.Second - 1).Truncate(time.Second)
	appID, keyID, err := is.auth.appForKey(ctx, req.Key)
	if err != nil {
		return nil, err
	}
	tag := ""
	if req.Gateway != "" {
		gwApp, _, err := is.gateways.decode(req.Gateway)
		if err != nil {
			return nil, err
		}
		if gwApp != appID {
			return nil, fmt.Errorf("%w: gateway %s", ErrForeignGateway, clip(req.Gateway))
		}
		tag = gatewayTag(req.Gateway)
	}
	if err := is.limits.allow(keyID, appID, is.now()); err != nil {
		return nil, err
	}
	if err := is.ledger.checkIssue(ctx, appID, ttl, tag != ""); err != nil {
		return nil, err
	}
	var rel RelayEndpoint
	nonce := randomToken(10)
	if tag != "" {
		rel, err = is.gatewayRelay(ctx, appID, tag, req.HostIP)
		nonce = gatewayNonce(tag)
	} else {
		var regions []string
		if regions, err = is.auth.regions(ctx, appID); err == nil {
			rel, err = is.choose(ctx, req.HostIP, req.FixedRegion, req.PreferredRegion, regions)
		}
	}
	if err != nil {
		return nil, err
	}
	signer, secret := is.ring.Current()
	expires := is.now().Add(ttl).Truncate(time.Second)
	u := relay.Username{Expires: expires, AppID: appID, KeyID: signer, Nonce: nonce}
	name := u.String()
	return &Credential{
		Username: name,
		Password: relay.Credential(secret, name),
		URLs:     rel.URLs,
		TTL:      ttl,
		Expires:  expires,
		AppID:    appID,
		RelayID:  rel.ID,
		Region:   rel.Region,
	}, nil
}
