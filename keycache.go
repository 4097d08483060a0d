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

// authCache caches API key lookups (by key hash) and app states (by app ID)
// in front of the store, so issuing a credential does not read the store
// once it is warm. Entries live for ttl; revoking a key, or changing an
// app's status through this Kit, drops the affected entries at once. Other
// nodes sharing the store see such changes within ttl.
//
// It starts no goroutine: expiry is checked on read.
type authCache struct {
	st   store.Store
	ttl  time.Duration
	now  func() time.Time
	keys *lru.Cache[[32]byte, cachedKey]
	apps *lru.Cache[string, cachedApp]
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

func newAuthCache(st store.Store, size int, ttl time.Duration, now func() time.Time) *authCache {
	keys, _ := lru.New[[32]byte, cachedKey](size) // errors only for size <= 0, excluded by Config defaults
	apps, _ := lru.New[string, cachedApp](size)
	return &authCache{st: st, ttl: ttl, now: now, keys: keys, apps: apps}
}

// appForKey returns the app ID and key ID of a valid API key, or
// ErrInvalidKey, or the app's status error (ErrAppPaused, ErrAppDeleting).
func (c *authCache) appForKey(ctx context.Context, key string) (appID, keyID string, err error) {
	if key == "" || len(key) > maxKeyLen {
		return "", "", ErrInvalidKey
	}
	h := hashKey(key)
	now := c.now()
	k, ok := c.keys.Get(h)
	if !ok || now.Sub(k.at) > c.ttl {
		rec, err := c.st.KeyByHash(ctx, h)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", "", ErrInvalidKey
		case err != nil:
			return "", "", fmt.Errorf("turnkit: look up API key: %w", err)
		}
		// The store found the key by its hash; compare in constant time
		// all the same, so no code path depends on where they differ.
		if subtle.ConstantTimeCompare(rec.Hash[:], h[:]) != 1 {
			return "", "", ErrInvalidKey
		}
		k = cachedKey{keyID: rec.ID, appID: rec.AppID, revoked: rec.Revoked(), at: now}
		c.keys.Add(h, k)
	}
	if k.revoked {
		return "", "", ErrInvalidKey
	}
	return k.appID, k.keyID, c.checkApp(ctx, k.appID)
}

// app returns the cached app record, reading it when missing or stale.
func (c *authCache) app(ctx context.Context, appID string) (cachedApp, error) {
	now := c.now()
	a, ok := c.apps.Get(appID)
	if !ok || now.Sub(a.at) > c.ttl {
		rec, err := c.st.App(ctx, appID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return cachedApp{}, ErrInvalidKey
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
	switch a.status {
	case store.AppActive:
		return nil
	case store.AppPaused:
		return fmt.Errorf("%w: app %s", ErrAppPaused, appID)
	default:
		return fmt.Errorf("%w: app %s", ErrAppDeleting, appID)
	}
}

// forgetKey drops the cached entry of the key with the given ID.
func (c *authCache) forgetKey(keyID string) {
	for _, h := range c.keys.Keys() {
		if k, ok := c.keys.Peek(h); ok && k.keyID == keyID {
			c.keys.Remove(h)
		}
	}
}

// forgetApp drops the cached status of an app.
func (c *authCache) forgetApp(appID string) { c.apps.Remove(appID) }
