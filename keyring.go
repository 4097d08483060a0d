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
}

var _ relay.Secrets = (*KeyRing)(nil)

type ringSnapshot struct {
	byID    map[string]store.Secret
	current store.Secret
}

// newKeyRing loads the ring from the store. If supplied is not empty it
// becomes the signing secret (rotating out the previous one); if the ring
// has no secret in service, a random one is generated and stored.
func newKeyRing(ctx context.Context, st store.Secrets, supplied string, overlap time.Duration, now func() time.Time) (*KeyRing, error) {
	r := &KeyRing{store: st, now: now, overlap: overlap}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	switch cur := r.snap.Load().current; {
	case supplied != "":
		if cur.ID != suppliedSecretID([]byte(supplied)) {
			if _, err := r.Rotate(ctx, []byte(supplied)); err != nil {
				return nil, err
			}
		}
	case cur.ID == "":
		if _, err := r.Rotate(ctx, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
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
	return id, r.Reload(ctx)
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
	return r.Reload(ctx)
}

// suppliedSecretID derives the key ID of a secret the embedder supplies, so
// restarting with the same secret finds it again instead of rotating.
func suppliedSecretID(secret []byte) string {
	sum := sha256.Sum256(append([]byte("turnkit relay secret id\x00"), secret...))
	return "s" + lowerBase32.EncodeToString(sum[:5])[:7]
}
