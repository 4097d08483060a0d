package turnkit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/turnkit/turnkit/store"
)

// ExchangeConfig bounds the exchange. The zero value is the defaults.
type ExchangeConfig struct {
	// Expiry is how long an address stays in a namespace without being
	// published again. Defaults to 10 minutes.
	Expiry time.Duration
	// MaxNamespaceLen bounds a namespace name, in bytes. Defaults to 128.
	MaxNamespaceLen int
	// MaxAddrsPerNamespace bounds the live addresses in one namespace.
	// Defaults to 64.
	MaxAddrsPerNamespace int
	// MaxNamespacesPerApp bounds an app's live namespaces. Defaults to
	// 10000.
	MaxNamespacesPerApp int
	// MaxNamespacesPerKey bounds the live namespaces one API key has
	// published in, so that one key cannot take all of its app's: the
	// last tenth stays for the app's other keys. Defaults to
	// MaxNamespacesPerApp less a tenth (9,000 of 10,000), so that an app
	// whose every client uses its one key, the usual case, keeps nearly
	// all of its namespaces.
	MaxNamespacesPerKey int
	// RateLimits bounds how fast an API key and an app call the exchange,
	// for requests with RateLimit set (the HTTP handler's); the defaults
	// are those of RateLimits.
	RateLimits RateLimits
	// MaxWait caps a long poll. Defaults to 30 seconds.
	MaxWait time.Duration
	// Shared keeps the namespaces in the store, so every issuer on it sees
	// the same ones, instead of in this process's memory. The addresses
	// clients publish are then written to the store and deleted Expiry
	// after their last publication; long polls check the store every
	// PollInterval.
	Shared bool
	// PollInterval is how often a long poll on a shared exchange reads the
	// store. Defaults to 250 milliseconds.
	PollInterval time.Duration
	// Store keeps the namespaces when Shared is set; it is required then.
	// The Kit sets it to its store.
	Store store.Exchanges
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// NewTimer makes the timers of long polls. Defaults to real timers;
	// tests inject their own.
	NewTimer func(d time.Duration) Timer
}

// Timer is what the exchange needs of a timer: its channel and Stop. A
// *time.Timer adapted by RealTimer is one.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// RealTimer returns a Timer on time.NewTimer.
func RealTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

func (c ExchangeConfig) withDefaults() ExchangeConfig {
	if c.Expiry <= 0 {
		c.Expiry = 10 * time.Minute
	}
	if c.MaxNamespaceLen <= 0 {
		c.MaxNamespaceLen = 128
	}
	if c.MaxAddrsPerNamespace <= 0 {
		c.MaxAddrsPerNamespace = 64
	}
	if c.MaxNamespacesPerApp <= 0 {
		c.MaxNamespacesPerApp = 10000
	}
	if c.MaxNamespacesPerKey <= 0 {
		c.MaxNamespacesPerKey = max(1, c.MaxNamespacesPerApp-c.MaxNamespacesPerApp/10)
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewTimer == nil {
		c.NewTimer = RealTimer
	}
	return c
}

// Exchange lets peers find each other's transport addresses: each publishes
// its address in a namespace both know (a room ID) and reads the others.
// Namespaces are per app. An address leaves its namespace after Expiry
// without activity. By default the addresses stay in memory, for one
// issuer; with ExchangeConfig.Shared they live in the store, for every
// issuer on it. It starts no goroutine (expiry is applied on access; the
// Kit's sweep deletes expired rows of the store) and is safe for
// concurrent use.
type Exchange struct {
	cfg    ExchangeConfig
	now    func() time.Time
	st     store.Exchanges // set when cfg.Shared
	limits *limiters

	mu      sync.Mutex // guards the following fields
	spaces  map[nsKey]*namespace
	perApp  map[string]int
	perKey  map[keyRef]int // live namespaces each key has published in
	waiters map[nsKey]*waiters
}

// keyRef names an API key of an app.
type keyRef struct{ app, key string }

// waiters are the long polls on one namespace: ch is closed at its next
// change.
type waiters struct {
	ch chan struct{}
	n  int
}

type nsKey struct{ app, name string }

type namespace struct {
	entries map[netip.AddrPort]*nsEntry
	keys    map[string]int // live entries per publishing key
	seq     uint64         // publications so far, for stable output order
}

type nsEntry struct {
	last time.Time // last publication
	seq  uint64    // order of first publication, for stable output
	key  string    // the API key that published it last
}

// NewExchange returns an Exchange.
func NewExchange(cfg ExchangeConfig) (*Exchange, error) {
	cfg = cfg.withDefaults()
	st := cfg.Store
	if !cfg.Shared {
		st = nil
	} else if st == nil {
		return nil, fmt.Errorf("%w: a shared exchange needs a Store", ErrBadRequest)
	}
	return &Exchange{cfg: cfg, now: cfg.Now, st: st, limits: newLimiters(cfg.RateLimits, 10000),
		spaces: make(map[nsKey]*namespace), perApp: make(map[string]int), perKey: make(map[keyRef]int),
		waiters: make(map[nsKey]*waiters)}, nil
}

// ExchangeRequest is one call to the exchange.
type ExchangeRequest struct {
	// AppID scopes the namespace.
	AppID string
	// KeyID is the API key of the caller, if any: namespaces are bounded
	// per key, and with RateLimit so are calls.
	KeyID string
	// RateLimit applies the per-key and per-app call limits.
	RateLimit bool
	// Namespace is the shared identifier. Required.
	Namespace string
	// Publish, if valid, is the caller's address to publish or refresh.
	Publish netip.AddrPort
	// Wait, if positive, holds the call until the namespace changes or the
	// wait (capped at MaxWait) passes.
	Wait time.Duration
}

// Do publishes the caller's address, if any, and returns every other live
// address of the namespace, in the order they were first published.
func (x *Exchange) Do(ctx context.Context, req ExchangeRequest) ([]netip.AddrPort, error) {
	if req.Namespace == "" {
		return nil, fmt.Errorf("%w: namespace is required", ErrBadRequest)
	}
	if len(req.Namespace) > x.cfg.MaxNamespaceLen {
		return nil, fmt.Errorf("%w: namespace is %d bytes, at most %d", ErrBadRequest, len(req.Namespace), x.cfg.MaxNamespaceLen)
	}
	if req.RateLimit {
		if err := x.limits.allow(req.KeyID, req.AppID, x.now()); err != nil {
			return nil, err
		}
	}
	self := req.Publish
	if self.IsValid() {
		self = netip.AddrPortFrom(self.Addr().Unmap(), self.Port())
	}
	if x.st != nil {
		return x.doShared(ctx, req, self)
	}
	key := nsKey{req.AppID, req.Namespace}
	x.mu.Lock()
	if err := x.publish(key, req.KeyID, self); err != nil {
		x.mu.Unlock()
		return nil, err
	}
	wait := min(req.Wait, x.cfg.MaxWait)
	if wait <= 0 {
		defer x.mu.Unlock()
		return x.list(key, self), nil
	}
	w := x.waiters[key]
	if w == nil {
		if len(x.waiters) >= x.cfg.MaxNamespacesPerApp*4 {
			x.mu.Unlock()
			return nil, fmt.Errorf("%w: too many long polls", ErrLimitExceeded)
		}
		w = &waiters{ch: make(chan struct{})}
		x.waiters[key] = w
	}
	w.n++
	ch := w.ch
	x.mu.Unlock()

	t := x.cfg.NewTimer(wait)
	defer t.Stop()
	var err error
	select {
	case <-ch:
	case <-t.C():
	case <-ctx.Done():
		err = ctx.Err()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if w.n--; w.n == 0 && x.waiters[key] == w {
		delete(x.waiters, key)
	}
	if err != nil {
		return nil, err
	}
	return x.list(key, self), nil
}

// doShared is Do on the store: publish, read, and for a long poll read
// again every PollInterval until the answer changes.
func (x *Exchange) doShared(ctx context.Context, req ExchangeRequest, self netip.AddrPort) ([]netip.AddrPort, error) {
	now := x.now()
	cut := now.Add(-x.cfg.Expiry)
	if self.IsValid() {
		err := x.st.PublishAddr(ctx, store.Publication{AppID: req.AppID, Namespace: req.Namespace, Addr: self.String(),
			KeyID: req.KeyID, At: now, ExpiredBefore: cut, MaxAddrs: x.cfg.MaxAddrsPerNamespace,
			MaxNamespaces: x.cfg.MaxNamespacesPerApp, MaxNamespacesPerKey: x.cfg.MaxNamespacesPerKey})
		if errors.Is(err, store.ErrLimit) {
			return nil, fmt.Errorf("%w: %w", ErrLimitExceeded, err)
		}
		if err != nil {
			return nil, fmt.Errorf("turnkit: exchange: %w", err)
		}
	}
	read := func() ([]netip.AddrPort, error) {
		es, err := x.st.NamespaceAddrs(ctx, req.AppID, req.Namespace, x.now().Add(-x.cfg.Expiry))
		if err != nil {
			return nil, fmt.Errorf("turnkit: exchange: %w", err)
		}
		out := make([]netip.AddrPort, 0, len(es))
		for _, e := range es {
			if ap, err := netip.ParseAddrPort(e.Addr); err == nil && ap != self {
				out = append(out, ap)
			}
		}
		return out, nil
	}
	first, err := read()
	wait := min(req.Wait, x.cfg.MaxWait)
	if err != nil || wait <= 0 {
		return first, err
	}
	deadline := x.cfg.NewTimer(wait)
	defer deadline.Stop()
	for {
		tick := x.cfg.NewTimer(x.cfg.PollInterval)
		select {
		case <-ctx.Done():
			tick.Stop()
			return nil, ctx.Err()
		case <-deadline.C():
			tick.Stop()
			return read()
		case <-tick.C():
			now, err := read()
			if err != nil || !slices.Equal(now, first) {
				return now, err
			}
		}
	}
}

// expireShared deletes the store's expired entries; a no-op in memory.
func (x *Exchange) expireShared(ctx context.Context) error {
	if x.st == nil {
		return nil
	}
	_, err := x.st.ExpireExchange(ctx, x.now().Add(-x.cfg.Expiry))
	return err
}

// publish expires stale entries and adds or refreshes self, published with
// the API key apiKey. x.mu is held.
func (x *Exchange) publish(key nsKey, apiKey string, self netip.AddrPort) error {
	now := x.now()
	app := key.app
	ns := x.spaces[key]
	if ns != nil {
		x.expire(key, ns, now)
		ns = x.spaces[key]
	}
	if ns == nil {
		if x.perApp[app] >= x.cfg.MaxNamespacesPerApp {
			x.expireApp(app, now)
			if x.perApp[app] >= x.cfg.MaxNamespacesPerApp {
				return fmt.Errorf("%w: the app has %d live namespaces, at most %d", ErrLimitExceeded, x.perApp[app], x.cfg.MaxNamespacesPerApp)
			}
		}
		if !self.IsValid() {
			return nil // reading an empty namespace creates nothing
		}
		if err := x.keyRoom(key.app, apiKey, now); err != nil {
			return err
		}
		ns = &namespace{entries: make(map[netip.AddrPort]*nsEntry), keys: make(map[string]int)}
		x.spaces[key] = ns
		x.perApp[app]++
	}
	if !self.IsValid() {
		return nil
	}
	if e, ok := ns.entries[self]; ok {
		if e.key != apiKey {
			if ns.keys[apiKey] == 0 {
				if err := x.keyRoom(key.app, apiKey, now); err != nil {
					return err
				}
			}
			x.dropKey(key.app, ns, e.key)
			x.addKey(key.app, ns, apiKey)
			e.key = apiKey
		}
		e.last = now
		return nil
	}
	if len(ns.entries) >= x.cfg.MaxAddrsPerNamespace {
		return fmt.Errorf("%w: namespace has %d addresses, at most %d", ErrLimitExceeded, len(ns.entries), x.cfg.MaxAddrsPerNamespace)
	}
	if ns.keys[apiKey] == 0 && len(ns.entries) > 0 {
		if err := x.keyRoom(key.app, apiKey, now); err != nil {
			return err
		}
	}
	ns.seq++
	ns.entries[self] = &nsEntry{last: now, seq: ns.seq, key: apiKey}
	x.addKey(key.app, ns, apiKey)
	x.notify(key)
	return nil
}

// keyRoom refuses a key that is already in MaxNamespacesPerKey live
// namespaces of the app. x.mu is held.
func (x *Exchange) keyRoom(app, apiKey string, now time.Time) error {
	if apiKey == "" {
		return nil
	}
	ref := keyRef{app, apiKey}
	if x.perKey[ref] >= x.cfg.MaxNamespacesPerKey {
		x.expireApp(app, now)
		if n := x.perKey[ref]; n >= x.cfg.MaxNamespacesPerKey {
			return fmt.Errorf("%w: the API key is in %d live namespaces, at most %d", ErrLimitExceeded, n, x.cfg.MaxNamespacesPerKey)
		}
	}
	return nil
}

// addKey counts one more entry of apiKey in ns. x.mu is held.
func (x *Exchange) addKey(app string, ns *namespace, apiKey string) {
	if apiKey == "" {
		return
	}
	if ns.keys[apiKey]++; ns.keys[apiKey] == 1 {
		x.perKey[keyRef{app, apiKey}]++
	}
}

// dropKey counts one entry of apiKey in ns less. x.mu is held.
func (x *Exchange) dropKey(app string, ns *namespace, apiKey string) {
	if apiKey == "" {
		return
	}
	if ns.keys[apiKey]--; ns.keys[apiKey] <= 0 {
		delete(ns.keys, apiKey)
		ref := keyRef{app, apiKey}
		if x.perKey[ref]--; x.perKey[ref] <= 0 {
			delete(x.perKey, ref)
		}
	}
}

// expire drops the namespace's entries idle past Expiry, and the namespace
// when it is empty. x.mu is held.
func (x *Exchange) expire(key nsKey, ns *namespace, now time.Time) {
	dropped := false
	for a, e := range ns.entries {
		if now.Sub(e.last) >= x.cfg.Expiry {
			delete(ns.entries, a)
			x.dropKey(key.app, ns, e.key)
			dropped = true
		}
	}
	if dropped {
		x.notify(key)
	}
	if len(ns.entries) == 0 {
		delete(x.spaces, key)
		if x.perApp[key.app]--; x.perApp[key.app] <= 0 {
			delete(x.perApp, key.app)
		}
	}
}

// expireApp expires every namespace of an app. x.mu is held.
func (x *Exchange) expireApp(app string, now time.Time) {
	for key, ns := range x.spaces {
		if key.app == app {
			x.expire(key, ns, now)
		}
	}
}

// notify wakes the long polls of a namespace. x.mu is held.
func (x *Exchange) notify(key nsKey) {
	if w := x.waiters[key]; w != nil {
		close(w.ch)
		delete(x.waiters, key)
	}
}

// list returns the live addresses other than self, oldest first. x.mu is
// held.
func (x *Exchange) list(key nsKey, self netip.AddrPort) []netip.AddrPort {
	ns := x.spaces[key]
	if ns == nil {
		return nil
	}
	x.expire(key, ns, x.now())
	type item struct {
		a   netip.AddrPort
		seq uint64
	}
	items := make([]item, 0, len(ns.entries))
	for a, e := range ns.entries {
		if a != self {
			items = append(items, item{a, e.seq})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].seq < items[j].seq })
	out := make([]netip.AddrPort, len(items))
	for i, it := range items {
		out[i] = it.a
	}
	return out
}
