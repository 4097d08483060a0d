package turnkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// staticCache caches static credential lookups in front of the store: by
// TURN username for the relay, which asks at every authenticated TURN
// request (never per packet), and by front-end API key hash for Metered's
// ICE-server fetch. Entries live for ttl, names the store does not know
// for negativeTTL; a deletion through this process drops the credential's
// entries at once (forget), and nodes that share a store and a Notifier
// drop them when told (ChangeStaticCredential). Others see a deletion
// within ttl.
//
// A lookup that raced with a deletion does not put the deleted record
// back: forget bumps a generation, and a lookup caches what it read only
// if the generation did not move meanwhile.
//
// It starts no goroutine: expiry is checked on read.
type staticCache struct {
	st     store.StaticCredentials
	ttl    time.Duration
	now    func() time.Time
	byUser *lru.Cache[string, cachedStatic]
	byKey  *lru.Cache[[32]byte, cachedStatic]

	mu  sync.Mutex // guards gen, and makes "check gen, then add" atomic against forget
	gen uint64
}

// cachedStatic is a lookup's result: the record, or found false.
type cachedStatic struct {
	rec   store.StaticCredential
	found bool
	at    time.Time
}

func newStaticCache(st store.StaticCredentials, size int, ttl time.Duration, now func() time.Time) *staticCache {
	// lru.New fails only for a size <= 0, which the Config defaults exclude.
	byUser, _ := lru.New[string, cachedStatic](size)
	byKey, _ := lru.New[[32]byte, cachedStatic](size)
	return &staticCache{st: st, ttl: ttl, now: now, byUser: byUser, byKey: byKey}
}

// fresh reports whether a cached entry may still be used at now.
func (c *staticCache) fresh(e cachedStatic, now time.Time) bool {
	ttl := c.ttl
	if !e.found {
		ttl = negativeTTL
	}
	age := now.Sub(e.at)
	return age >= 0 && age <= ttl
}

// byUsername returns the static credential with the given username;
// found is false when there is none.
func (c *staticCache) byUsername(ctx context.Context, username string) (store.StaticCredential, bool, error) {
	now := c.now()
	if e, ok := c.byUser.Get(username); ok && c.fresh(e, now) {
		return e.rec, e.found, nil
	}
	gen := c.generation()
	rec, err := c.st.StaticCredential(ctx, username)
	e := cachedStatic{rec: rec, found: err == nil, at: now}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.StaticCredential{}, false, fmt.Errorf("turnkit: look up static credential: %w", err)
	}
	c.add(gen, func() { c.byUser.Add(username, e) })
	return e.rec, e.found, nil
}

// cachedAPIKey returns the static credential whose front-end API key has
// the given hash if the cache holds it, fresh, as one that exists; known
// reports whether it holds it as existing at all, however old the entry.
// It never reads the store.
func (c *staticCache) cachedAPIKey(hash [32]byte) (rec store.StaticCredential, fresh, known bool) {
	e, ok := c.byKey.Get(hash)
	if !ok || !e.found {
		return store.StaticCredential{}, false, false
	}
	return e.rec, c.fresh(e, c.now()), true
}

// byAPIKey returns the static credential whose front-end API key has the
// given hash, from the cache or the store; found is false when there is
// none.
func (c *staticCache) byAPIKey(ctx context.Context, hash [32]byte) (rec store.StaticCredential, found bool, err error) {
	now := c.now()
	if e, ok := c.byKey.Get(hash); ok && c.fresh(e, now) {
		return e.rec, e.found, nil
	}
	gen := c.generation()
	rec, err = c.st.StaticCredentialByAPIKey(ctx, hash)
	e := cachedStatic{rec: rec, found: err == nil, at: now}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.StaticCredential{}, false, fmt.Errorf("turnkit: look up static credential by API key: %w", err)
	}
	c.add(gen, func() { c.byKey.Add(hash, e) })
	return e.rec, e.found, nil
}

func (c *staticCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// add runs put, which caches a lookup's result, unless a forget ran since
// the lookup read generation gen.
func (c *staticCache) add(gen uint64, put func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		put()
	}
}

// forget drops every entry of the credential with the given username, and
// its "unknown" entries, so that a deletion (or a creation) is seen at
// once.
func (c *staticCache) forget(username string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byUser.Remove(username)
	for _, h := range c.byKey.Keys() {
		if e, ok := c.byKey.Peek(h); ok && e.rec.Username == username {
			c.byKey.Remove(h)
		}
	}
}

// forgetKey drops the entry of an API key hash, for a credential just
// created with it.
func (c *staticCache) forgetKey(hash [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byKey.Remove(hash)
}

// forgetAll drops every entry, for when changes may have been missed.
func (c *staticCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byUser.Purge()
	c.byKey.Purge()
}

// authenticate answers the relay for a username that is not in turnkit's
// REST form: the static credential's password, app and expiry, so that an
// expired one opens no allocation while its live sessions go on. Only
// names in the form turnkit gives static credentials are looked up.
func (c *staticCache) authenticate(ctx context.Context, req *relay.AuthRequest) (*relay.Identity, error) {
	if !isStaticUsername(req.Username) {
		return nil, fmt.Errorf("%w: the username is neither a REST API credential nor a static one", ErrInvalidKey)
	}
	rec, found, err := c.byUsername(ctx, req.Username)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: static credential %s does not exist", ErrInvalidKey, req.Username)
	}
	// A static credential is one username for every client its app hands
	// it to (Metered's front ends fetch it for each visitor), so the
	// relay's per-username cap, meant for one client's credential, does not
	// apply; the app's and the relay's caps do.
	return &relay.Identity{AppID: rec.AppID, Password: rec.Password, Expires: rec.ExpiresAt, MaxAllocations: -1}, nil
}
