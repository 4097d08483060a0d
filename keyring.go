package turnkit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// KeyRing holds the relay secrets: the newest secret in service signs new
// credentials, and earlier ones keep verifying until their NotAfter, so
// credentials minted before a rotation work until they expire.
//
// Reads (Current, Secret) are served from an in-memory snapshot and never
// touch storage; changes (Rotate, Retire) write through to the store first.
// A KeyRing is safe for concurrent use. It implements relay.Secrets.
type KeyRing struct {
	store   store.Secrets
	now     func() time.Time
	overlap time.Duration // how long a rotated-out secret keeps verifying

	mu   sync.Mutex // serialises changes
	snap atomic.Pointer[ringSnapshot]

	missMu   sync.Mutex // guards lastMiss
	lastMiss time.Time  // when a miss last reloaded the ring
}

var _ relay.Secrets = (*KeyRing)(nil)

// ringSnapshot is one read of the ring: every secret by key ID, and the
// signing one.
type ringSnapshot struct {
	byID    map[string]store.Secret
	current store.Secret
}

// KeyRingConfig configures a KeyRing. Store is required.
type KeyRingConfig struct {
	// Store keeps the secrets; every node sharing it shares the ring.
	Store store.Secrets
	// Overlap is how long a rotated-out secret keeps verifying: at least
	// the longest credential TTL plus the relays' clock skew allowance, so
	// no credential stops working before it expires. Defaults to 24 hours
	// and 1 minute (the Issuer's default MaxTTL plus a minute).
	Overlap time.Duration
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// NewKeyRing loads the ring from cfg.Store. It changes nothing: call
// EnsureSecret (or Rotate) to put a signing secret in service.
func NewKeyRing(ctx context.Context, cfg KeyRingConfig) (*KeyRing, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: key ring: Store is required", ErrBadRequest)
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 24*time.Hour + time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &KeyRing{store: cfg.Store, now: cfg.Now, overlap: cfg.Overlap}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// EnsureSecret puts a signing secret in service if needed and returns its
// key ID: supplied, when not empty, becomes the signing secret unless it
// already is (rotating out the previous one, which keeps verifying for the
// overlap); with supplied empty, a random secret is generated and stored
// when the ring has none in service. The ring is reloaded first, so a node
// sees what other nodes did.
func (r *KeyRing) EnsureSecret(ctx context.Context, supplied []byte) (string, error) {
	if err := r.Reload(ctx); err != nil {
		return "", err
	}
	cur := r.snap.Load().current
	switch {
	case len(supplied) > 0 && cur.ID != suppliedSecretID(supplied):
		return r.Rotate(ctx, supplied)
	case len(supplied) == 0 && cur.ID == "":
		return r.Rotate(ctx, nil)
	}
	return cur.ID, nil
}

// Reload reads the ring from the store, picking up changes other nodes
// made.
func (r *KeyRing) Reload(ctx context.Context) error {
	list, err := r.store.ListSecrets(ctx)
	if err != nil {
		return fmt.Errorf("turnkit: load relay secrets: %w", err)
	}
	snap := &ringSnapshot{byID: make(map[string]store.Secret, len(list))}
	for _, s := range list {
		snap.byID[s.ID] = s
		if s.NotAfter.IsZero() && !s.CreatedAt.Before(snap.current.CreatedAt) {
			snap.current = s
		}
	}
	r.snap.Store(snap)
	return nil
}

// reloadOnMiss reloads the ring when a credential names a key ID it does
// not hold — another node may have rotated to a new secret — at most once
// per interval, so that a stream of made-up key IDs costs one store read
// per interval. It reports whether it reloaded.
func (r *KeyRing) reloadOnMiss(ctx context.Context, interval time.Duration) bool {
	r.missMu.Lock()
	now := r.now()
	if !r.lastMiss.IsZero() && now.Sub(r.lastMiss) < interval && !now.Before(r.lastMiss) {
		r.missMu.Unlock()
		return false
	}
	r.lastMiss = now
	r.missMu.Unlock()
	return r.Reload(ctx) == nil
}

// Current returns the key ID and value of the signing secret.
func (r *KeyRing) Current() (keyID string, secret []byte) {
	c := r.snap.Load().current
	return c.ID, c.Value
}

// Secret returns the secret with the given key ID if it verifies at now.
func (r *KeyRing) Secret(keyID string, now time.Time) ([]byte, bool) {
	s, ok := r.snap.Load().byID[keyID]
	if !ok || (!s.NotAfter.IsZero() && !now.Before(s.NotAfter)) {
		return nil, false
	}
	return s.Value, true
}

// Rotate makes secret the signing secret and returns its key ID. A nil
// secret means a new random one. The previous signing secret keeps
// verifying for the overlap (the longest credential TTL plus the clock
// skew allowance), so no credential it signed stops working before it
// expires. Rotating to a secret that is already in the ring puts it back in
// service under its old ID.
func (r *KeyRing) Rotate(ctx context.Context, secret []byte) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var id string
	if secret == nil {
		secret = []byte(randomToken(32))
		id = "k" + randomToken(5)[:7]
	} else {
		if len(secret) < 16 {
			return "", fmt.Errorf("%w: relay secret must be at least 16 bytes, got %d", ErrBadRequest, len(secret))
		}
		id = suppliedSecretID(secret)
	}
	prev := r.snap.Load().current
	if _, exists := r.snap.Load().byID[id]; exists {
		if err := r.store.RetireSecret(ctx, id, time.Time{}); err != nil {
			return "", fmt.Errorf("turnkit: reinstate relay secret %s: %w", id, err)
		}
	} else if err := r.store.AddSecret(ctx, store.Secret{ID: id, Value: secret, CreatedAt: now}); err != nil {
		return "", fmt.Errorf("turnkit: add relay secret %s: %w", id, err)
	}
	if prev.ID != "" && prev.ID != id {
		if err := r.store.RetireSecret(ctx, prev.ID, now.Add(r.overlap)); err != nil {
			return "", fmt.Errorf("turnkit: retire relay secret %s: %w", prev.ID, err)
		}
	}
	if err := r.Reload(ctx); err != nil {
		return "", err
	}
	r.changed(ctx)
	return id, nil
}

// Retire stops the secret with the given key ID from verifying at once —
// for a secret that leaked. Credentials it signed stop working, sessions
// made with them can no longer refresh. Retiring the signing secret first
// rotates to a new random one.
func (r *KeyRing) Retire(ctx context.Context, keyID string) error {
	if cur, _ := r.Current(); cur == keyID {
		if _, err := r.Rotate(ctx, nil); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.store.RetireSecret(ctx, keyID, r.now()); err != nil {
		return fmt.Errorf("turnkit: retire relay secret %s: %w", keyID, err)
	}
	if err := r.Reload(ctx); err != nil {
		return err
	}
	r.changed(ctx)
	return nil
}

// changed tells the other nodes sharing the store to reload the ring, when
// the store carries notifications (they reload at their next Sweep
// anyway).
func (r *KeyRing) changed(ctx context.Context) {
	if n, ok := r.store.(store.Notifier); ok {
		_ = n.Publish(ctx, store.Change{Kind: store.ChangeSecrets}) // best effort: Sweep reloads
	}
}

// suppliedSecretID derives the key ID of a secret the embedder supplies, so
// restarting with the same secret finds it again instead of rotating.
func suppliedSecretID(secret []byte) string {
	sum := sha256.Sum256(append([]byte("turnkit relay secret id\x00"), secret...))
	return "s" + lowerBase32.EncodeToString(sum[:5])[:7]
}
