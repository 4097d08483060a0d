package turnkit

import (
	"fmt"
	"math"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimitError is the error for a request over its rate limit. It wraps
// ErrRateLimited and says when to retry.
type RateLimitError struct {
	// Scope is "key", "app" or "source" (an address that sent too many
	// wrong API keys).
	Scope string
	// RetryAfter is how long until a request would be allowed.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	if e.Scope == "source" {
		return fmt.Sprintf("%v: too many requests with invalid API keys from this address; retry after %s", ErrRateLimited, e.RetryAfter.Round(time.Millisecond))
	}
	return fmt.Sprintf("%v: too many requests for this %s; retry after %s", ErrRateLimited, e.Scope, e.RetryAfter.Round(time.Millisecond))
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// retryAfterSeconds is the Retry-After header value: whole seconds, at
// least 1.
func (e *RateLimitError) retryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// RateLimits bounds how fast an API key and an app may call an endpoint.
// The zero value means the defaults; a negative rate turns that limit off.
//
// The defaults carry a crowd that arrives at once: one backend minting
// for a 5,000-person webinar that starts within a minute asks for about 85
// credentials a second on average, in bursts of hundreds; the per-key
// bucket of 2,000 with 200 a second more absorbs such a start without a
// 429, while a leaked key still cannot mint more than 200 a second for
// long.
type RateLimits struct {
	// PerKey is the sustained rate per API key, in requests per second.
	// Defaults to 200.
	PerKey float64
	// PerKeyBurst is the burst per API key. Defaults to ten times PerKey.
	PerKeyBurst int
	// PerApp is the sustained rate per app, over all its keys. Defaults to
	// 500.
	PerApp float64
	// PerAppBurst is the burst per app. Defaults to ten times PerApp.
	PerAppBurst int
}

func (r RateLimits) withDefaults() RateLimits {
	if r.PerKey == 0 {
		r.PerKey = 200
	}
	if r.PerKeyBurst <= 0 {
		r.PerKeyBurst = max(1, int(10*r.PerKey))
	}
	if r.PerApp == 0 {
		r.PerApp = 500
	}
	if r.PerAppBurst <= 0 {
		r.PerAppBurst = max(1, int(10*r.PerApp))
	}
	return r
}

// limiters holds a token bucket per key and per app, in bounded LRU caches
// (a bucket evicted and recreated starts full). Times are explicit, so the
// injected clock drives them. It starts no goroutine.
type limiters struct {
	cfg  RateLimits
	keys *lru.Cache[string, *rate.Limiter]
	apps *lru.Cache[string, *rate.Limiter]
}

func newLimiters(cfg RateLimits, size int) *limiters {
	keys, _ := lru.New[string, *rate.Limiter](size) // size > 0 by Config defaults
	apps, _ := lru.New[string, *rate.Limiter](size)
	return &limiters{cfg: cfg.withDefaults(), keys: keys, apps: apps}
}

// allow takes one request from the key's and the app's buckets, or returns
// a *RateLimitError and takes nothing.
func (l *limiters) allow(keyID, appID string, now time.Time) error {
	var taken []*rate.Reservation
	for _, b := range [...]struct {
		scope string
		cache *lru.Cache[string, *rate.Limiter]
		id    string
		r     float64
		burst int
	}{
		{"key", l.keys, keyID, l.cfg.PerKey, l.cfg.PerKeyBurst},
		{"app", l.apps, appID, l.cfg.PerApp, l.cfg.PerAppBurst},
	} {
		if b.r < 0 || b.id == "" {
			continue
		}
		lim, ok := b.cache.Get(b.id)
		if !ok {
			lim = rate.NewLimiter(rate.Limit(b.r), b.burst)
			b.cache.Add(b.id, lim)
		}
		res := lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			return &RateLimitError{Scope: b.scope, RetryAfter: d}
		}
		taken = append(taken, res)
	}
	return nil
}
