package turnkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// Bounds of static credentials.
const (
	// MaxStaticLabelLen bounds a static credential's label, in bytes.
	MaxStaticLabelLen = 64
	// MaxStaticTTL bounds the lifetime a static credential may be given.
	MaxStaticTTL = 10 * 365 * 24 * time.Hour
	// StaticAPIKeyPrefix starts every static credential's front-end API
	// key, so that it is told apart from an app's API key at a glance.
	StaticAPIKeyPrefix = "tkc_"
)

// StaticCredentialRequest describes a static credential to create: a
// persistent TURN username and password, as Metered's API creates them.
type StaticCredentialRequest struct {
	// AppID is the app the credential's sessions count in. Required.
	AppID string
	// Label names the credential: at most MaxStaticLabelLen bytes of
	// printable text, or empty.
	Label string
	// TTL, if positive, is how long the credential opens allocations
	// (rounded up to whole seconds, at most MaxStaticTTL); zero means
	// until it is deleted.
	TTL time.Duration
}

// CreatedStaticCredential is a new static credential and its front-end
// API key. The key is shown this once: only its SHA-256 is stored.
type CreatedStaticCredential struct {
	store.StaticCredential
	// APIKey fetches the credential's ICE servers (GET
	// /api/v1/turn/credentials?apiKey=…). It is safe in front-end code:
	// it reaches nothing else, and dies with the credential.
	APIKey string
}

// StaticCredentialQuery selects an app's static credentials for
// StaticCredentials. The zero value lists the first 50 that have not
// expired.
type StaticCredentialQuery struct {
	// Label, if set, keeps only the credentials with this label.
	Label string
	// All includes the expired ones.
	All bool
	// Offset skips that many; Limit returns at most that many (defaults
	// to 50, at most 1000).
	Offset, Limit int
}

// CreateStaticCredential creates a static credential for an active app:
// a TURN username (24 hex digits, never in the REST form, so the relay
// tells it apart) and password that the Kit's relays accept until the
// credential is deleted or expires, and a front-end API key for its ICE
// servers. Its sessions are metered and billed to the app like any other.
// An expired one opens no new allocation, but its live sessions go on, as
// for every credential.
func (k *Kit) CreateStaticCredential(ctx context.Context, req StaticCredentialRequest) (*CreatedStaticCredential, error) {
	if len(req.Label) > MaxStaticLabelLen || !printable(req.Label) {
		return nil, fmt.Errorf("%w: label must be at most %d bytes of printable text without control characters", ErrBadRequest, MaxStaticLabelLen)
	}
	if req.TTL < 0 || req.TTL > MaxStaticTTL {
		return nil, fmt.Errorf("%w: a static credential's lifetime %s must be positive and at most %s (or zero: no expiry)",
			ErrBadRequest, req.TTL, MaxStaticTTL)
	}
	app, err := k.issuer.auth.app(ctx, req.AppID)
	if err != nil {
		return nil, err
	}
	if err := statusError(req.AppID, app.status); err != nil {
		return nil, err
	}
	now := k.cfg.Now().UTC()
	rec := store.StaticCredential{
		Username: newStaticUsername(), Password: randomToken(15), Label: req.Label, AppID: req.AppID, CreatedAt: now,
	}
	if req.TTL > 0 {
		rec.ExpiresAt = now.Add((req.TTL + time.Second - 1).Truncate(time.Second))
	}
	apiKey := StaticAPIKeyPrefix + randomToken(20)
	rec.APIKeyHash = hashKey(apiKey)
	if err := k.store.CreateStaticCredential(ctx, rec); err != nil {
		return nil, fmt.Errorf("turnkit: create static credential for app %s: %w", req.AppID, err)
	}
	k.statics.forget(rec.Username)
	k.statics.forgetKey(rec.APIKeyHash)
	return &CreatedStaticCredential{StaticCredential: rec, APIKey: apiKey}, nil
}

// StaticCredentials lists an app's static credentials, oldest first, and
// says how many q selects in all. The front-end API keys are not among
// them: only their hashes are kept.
func (k *Kit) StaticCredentials(ctx context.Context, appID string, q StaticCredentialQuery) ([]store.StaticCredential, int, error) {
	if q.Offset < 0 || q.Limit < 0 || q.Limit > 1000 {
		return nil, 0, fmt.Errorf("%w: offset %d and limit %d must be positive, the limit at most 1000", ErrBadRequest, q.Offset, q.Limit)
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	sq := store.StaticQuery{AppID: appID, Label: q.Label, Offset: q.Offset, Limit: q.Limit}
	if !q.All {
		sq.ActiveAt = k.cfg.Now().UTC()
	}
	list, total, err := k.store.ListStaticCredentials(ctx, sq)
	if err != nil {
		return nil, 0, fmt.Errorf("turnkit: static credentials of app %s: %w", appID, err)
	}
	return list, total, nil
}

// DeleteStaticCredential deletes one of the app's static credentials. Its
// front-end API key dies with it; it opens no allocation from then on, and
// its live sessions end (here at once, after their usage is reported; on
// other nodes when the store's notification reaches them, or when their
// relay next asks). It returns an error wrapping ErrNotFound when the app
// has no credential with that username.
func (k *Kit) DeleteStaticCredential(ctx context.Context, appID, username string) error {
	if username == "" {
		return fmt.Errorf("%w: username is required", ErrBadRequest)
	}
	names, err := k.store.DeleteStaticCredentials(ctx, appID, store.StaticMatch{Username: username})
	if err != nil {
		return fmt.Errorf("turnkit: delete static credential: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: app %s has no static credential %q", ErrNotFound, appID, clip(username))
	}
	k.staticDeleted(ctx, names)
	return nil
}

// DeleteStaticCredentialsByLabel deletes every static credential of the
// app with the label, as DeleteStaticCredential deletes one, and returns
// how many it deleted.
func (k *Kit) DeleteStaticCredentialsByLabel(ctx context.Context, appID, label string) (int, error) {
	if label == "" {
		return 0, fmt.Errorf("%w: label is required", ErrBadRequest)
	}
	names, err := k.store.DeleteStaticCredentials(ctx, appID, store.StaticMatch{Label: label})
	if err != nil {
		return 0, fmt.Errorf("turnkit: delete static credentials: %w", err)
	}
	k.staticDeleted(ctx, names)
	return len(names), nil
}

// staticDeleted applies deletions here and tells the other nodes.
func (k *Kit) staticDeleted(ctx context.Context, usernames []string) {
	for _, u := range usernames {
		k.endStatic(u)
		k.publish(ctx, store.Change{Kind: store.ChangeStaticCredential, ID: u})
	}
}

// endStatic forgets a deleted static credential and ends the in-process
// relay's sessions that use it.
func (k *Kit) endStatic(username string) {
	k.statics.forget(username)
	if k.relay == nil {
		return
	}
	if n := k.relay.EndSessions(func(ev *relay.SessionEvent) bool { return ev.Username == username }); n > 0 {
		k.log.Info("ended the sessions of a deleted static credential", "sessions", n)
	}
}

// staticICE returns the static credential whose front-end API key is
// apiKey, with the relay chosen for it, after checking the app's status
// and balance (the reserve of one allocation), as the Issuer checks a
// gateway credential. A key the cache does not know as valid spends one
// of src's failed attempts before it is looked up, and gets it back if it
// is valid, as an API key does (Issuer.AuthenticateFrom).
func (k *Kit) staticICE(ctx context.Context, apiKey string, src netip.Addr, q RelayQuery) (store.StaticCredential, RelayEndpoint, error) {
	if apiKey == "" || len(apiKey) > maxKeyLen {
		return store.StaticCredential{}, RelayEndpoint{}, ErrInvalidKey
	}
	h := hashKey(apiKey)
	rec, found, known := k.statics.cachedAPIKey(h)
	if !found {
		v, err := k.issuer.attempt(ctx, 's', h, src, known, func(ctx context.Context) (any, bool, error) {
			rec, found, err := k.statics.byAPIKey(ctx, h)
			if !found {
				return nil, false, err
			}
			return rec, true, err
		})
		if err != nil {
			return store.StaticCredential{}, RelayEndpoint{}, err
		}
		rec, found = v.(store.StaticCredential)
	}
	if !found || rec.Expired(k.cfg.Now()) {
		return store.StaticCredential{}, RelayEndpoint{}, ErrInvalidKey
	}
	app, err := k.issuer.auth.app(ctx, rec.AppID)
	if err != nil {
		return store.StaticCredential{}, RelayEndpoint{}, err
	}
	if err := statusError(rec.AppID, app.status); err != nil {
		return store.StaticCredential{}, RelayEndpoint{}, err
	}
	if err := k.ledger.checkIssue(ctx, rec.AppID, k.cfg.DefaultTTL, true); err != nil {
		return store.StaticCredential{}, RelayEndpoint{}, err
	}
	q.EnabledRegions = app.regions
	rel, err := k.registry.ChooseRelay(ctx, q)
	if err != nil {
		return store.StaticCredential{}, RelayEndpoint{}, err
	}
	return rec, rel, nil
}

// staticUsernameBytes is how many random bytes a static username holds;
// it is written as twice as many hex digits.
const staticUsernameBytes = 12

// newStaticUsername returns a new static credential username: 24
// lowercase hex digits (96 random bits), as Metered's look.
func newStaticUsername() string {
	b := make([]byte, staticUsernameBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return hex.EncodeToString(b)
}

// isStaticUsername reports whether s has the form of a static credential
// username, so that other names never reach the store.
func isStaticUsername(s string) bool {
	if len(s) != 2*staticUsernameBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
