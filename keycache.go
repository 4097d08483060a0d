package turnkit

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/turnkit/turnkit/store"
)

// IssuerStore is what the Issuer reads of the store: apps and their API
// keys.
type IssuerStore interface {
	store.Apps
	store.Keys
}

// negativeTTL is how long an API key the store does not know is
// remembered as unknown, so that a stream of wrong keys does not read the
// store for each one; a key created on another node meanwhile is refused
// for at most this long.
const negativeTTL = 5 * time.Second

// authCache caches API key lookups (by key hash and by key ID), unknown
// keys (briefly) and app states (by app ID) in front of the store, so
// authenticating a request does not read the store once it is warm.
// Entries live for ttl; a change made through this process drops the
// affected entries at once (forgetKey, forgetApp), and nodes that share a
// store and a Notifier drop them when told. Others see a change within ttl.
//
// It starts no goroutine: expiry is checked on read.
type authCache struct {
	st      IssuerStore
	ttl     time.Duration
	now     func() time.Time
	keys    *lru.Cache[[32]byte, cachedKey]
	byID    *lru.Cache[string, cachedKey]
	unknown *lru.Cache[[32]byte, time.Time]
	apps    *lru.Cache[string, cachedApp]
}

type cachedKey struct {
	keyID, appID string
	revoked      bool
	at           time.Time
}

type cachedApp struct {
	status  store.AppStatus
	regions []string
	at      time.Time
}

func newAuthCache(st IssuerStore, size int, ttl time.Duration, now func() time.Time) *authCache {
	// lru.New fails only for a size <= 0, which the callers' defaults exclude.
	keys, _ := lru.New[[32]byte, cachedKey](size)
	byID, _ := lru.New[string, cachedKey](size)
	unknown, _ := lru.New[[32]byte, time.Time](size)
	apps, _ := lru.New[string, cachedApp](size)
	return &authCache{st: st, ttl: ttl, now: now, keys: keys, byID: byID, unknown: unknown, apps: apps}
}

// authenticate returns the caller a valid API key belongs to, or
// ErrInvalidKey, or the app's status error (ErrAppPaused, ErrAppDeleting).
func (c *authCache) authenticate(ctx context.Context, key string) (Caller, error) {
	if key == "" || len(key) > maxKeyLen {
		return Caller{}, ErrInvalidKey
	}
	h := hashKey(key)
	now := c.now()
	k, ok := c.keys.Get(h)
	if !ok || now.Sub(k.at) > c.ttl {
		if at, ok := c.unknown.Get(h); ok && now.Sub(at) <= negativeTTL {
			return Caller{}, ErrInvalidKey
		}
		rec, err := c.st.KeyByHash(ctx, h)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c.keys.Remove(h)
			c.unknown.Add(h, now)
			return Caller{}, ErrInvalidKey
		case err != nil:
			return Caller{}, fmt.Errorf("turnkit: look up API key: %w", err)
		}
		// The store found the key by its hash; compare in constant time
		// all the same, so no code path depends on where they differ.
		if subtle.ConstantTimeCompare(rec.Hash[:], h[:]) != 1 {
			return Caller{}, ErrInvalidKey
		}
		k = cachedKey{keyID: rec.ID, appID: rec.AppID, revoked: rec.Revoked(), at: now}
		c.keys.Add(h, k)
		c.byID.Add(rec.ID, k)
		c.unknown.Remove(h)
	}
	if k.revoked {
		return Caller{}, ErrInvalidKey
	}
	return Caller{AppID: k.appID, KeyID: k.keyID}, c.checkApp(ctx, k.appID)
}

// cached returns the caller of a key the cache holds as valid, without
// reading the store: fresh when its entry is within the TTL, known when
// the entry is there at all, however old (a key in use whose entry has
// expired). Revocations made through this process, or told by a Notifier,
// drop the entry; a revoked key is neither.
func (c *authCache) cached(key string) (caller Caller, fresh, known bool) {
	if key == "" || len(key) > maxKeyLen {
		return Caller{}, false, false
	}
	k, ok := c.keys.Get(hashKey(key))
	if !ok || k.revoked {
		return Caller{}, false, false
	}
	return Caller{AppID: k.appID, KeyID: k.keyID}, c.now().Sub(k.at) <= c.ttl, true
}

// forgetUnknown drops the negative entry of a key just created.
func (c *authCache) forgetUnknown(key string) { c.unknown.Remove(hashKey(key)) }

// keyValid reports whether the API key with the given ID exists, belongs
// to appID and is not revoked.
func (c *authCache) keyValid(ctx context.Context, keyID, appID string) (bool, error) {
	now := c.now()
	k, ok := c.byID.Get(keyID)
	if !ok || now.Sub(k.at) > c.ttl {
		rec, err := c.st.Key(ctx, keyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("turnkit: look up API key %s: %w", keyID, err)
		}
		k = cachedKey{keyID: rec.ID, appID: rec.AppID, revoked: rec.Revoked(), at: now}
		c.byID.Add(keyID, k)
	}
	return !k.revoked && k.appID == appID, nil
}

// app returns the cached app record, reading it when missing or stale.
func (c *authCache) app(ctx context.Context, appID string) (cachedApp, error) {
	now := c.now()
	a, ok := c.apps.Get(appID)
	if !ok || now.Sub(a.at) > c.ttl {
		rec, err := c.st.App(ctx, appID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return cachedApp{}, fmt.Errorf("%w: app %s does not exist", ErrInvalidKey, appID)
		case err != nil:
			return cachedApp{}, fmt.Errorf("turnkit: look up app %s: %w", appID, err)
		}
		a = cachedApp{status: rec.Status, regions: rec.Regions, at: now}
		c.apps.Add(appID, a)
	}
	return a, nil
}

// regions returns the app's enabled regions (nil: all).
func (c *authCache) regions(ctx context.Context, appID string) ([]string, error) {
	a, err := c.app(ctx, appID)
	return a.regions, err
}

// checkApp returns nil if the app is active, ErrAppPaused or ErrAppDeleting
// if not, ErrInvalidKey if it does not exist.
func (c *authCache) checkApp(ctx context.Context, appID string) error {
	a, err := c.app(ctx, appID)
	if err != nil {
		return err
	}
	return statusError(appID, a.status)
}

// statusError is nil for an active app and the status's error otherwise.
func statusError(appID string, st store.AppStatus) error {
	switch st {
	case store.AppActive:
		return nil
	case store.AppPaused:
		return fmt.Errorf("%w: app %s", ErrAppPaused, appID)
	default:
		return fmt.Errorf("%w: app %s", ErrAppDeleting, appID)
	}
}

// forgetKey drops the cached entries of the key with the given ID.
func (c *authCache) forgetKey(keyID string) {
	c.byID.Remove(keyID)
	for _, h := range c.keys.Keys() {
		if k, ok := c.keys.Peek(h); ok && k.keyID == keyID {
			c.keys.Remove(h)
		}
	}
}

// forgetApp drops the cached status of an app.
func (c *authCache) forgetApp(appID string) { c.apps.Remove(appID) }

// forgetAll drops every cached entry, for when changes may have been
// missed.
func (c *authCache) forgetAll() {
	c.keys.Purge()
	c.byID.Purge()
	c.unknown.Purge()
	c.apps.Purge()
}
