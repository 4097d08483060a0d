package turnkit

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// FailureLimits bounds how many requests with an invalid API key one
// source address may make: a brute force is throttled to Rate guesses a
// second, while correct keys from other addresses are never slowed. The
// zero value means the defaults; a negative Rate turns the limit off.
type FailureLimits struct {
	// Rate is the sustained rate of failed attempts per source, per
	// second. Defaults to 1.
	Rate float64
	// Burst is how many failed attempts a source may make at once before
	// the rate applies. Defaults to 20.
	Burst int
	// Slots is the size of the table of sources. Defaults to 65536.
	Slots int
}

func (f FailureLimits) withDefaults() FailureLimits {
	if f.Rate == 0 {
		f.Rate = 1
	}
	if f.Burst <= 0 {
		f.Burst = 20
	}
	if f.Slots <= 0 {
		f.Slots = 1 << 16
	}
	return f
}

// failureLimiter counts API key attempts that may fail per source address
// in a fixed table of token buckets, indexed by two keyed hashes of the
// address under a random per-process seed: it holds no address and
// allocates nothing per request. A source is refused only when both of its
// slots are empty, so an honest source that shares one slot with an
// attacker keeps its other.
type failureLimiter struct {
	cfg  FailureLimits
	seed maphash.Seed

	mu    sync.Mutex // guards slots
	slots []bucket
}

// bucket is a token bucket: tokens at time at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newFailureLimiter(cfg FailureLimits) *failureLimiter {
	cfg = cfg.withDefaults()
	if cfg.Rate < 0 {
		return nil
	}
	return &failureLimiter{cfg: cfg, seed: maphash.MakeSeed(), slots: make([]bucket, cfg.Slots)}
}

// index returns the two slots of a source.
func (l *failureLimiter) index(src netip.Addr) (int, int) {
	raw := src.Unmap().As16()
	h := maphash.Bytes(l.seed, raw[:])
	n := uint64(len(l.slots))
	return int(h % n), int((h >> 32) % n)
}

// level refills a bucket to now and returns its tokens. l.mu is held.
func (l *failureLimiter) level(b *bucket, now time.Time) float64 {
	if b.at.IsZero() {
		b.tokens, b.at = float64(l.cfg.Burst), now
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.cfg.Burst), b.tokens+d.Seconds()*l.cfg.Rate)
		b.at = now
	}
	return b.tokens
}

// take spends one attempt of src; ok is false, with how long until one
// is back, when src has none left in either of its slots.
func (l *failureLimiter) take(src netip.Addr, now time.Time) (ok bool, wait time.Duration) {
	if l == nil || !src.IsValid() {
		return true, 0
	}
	i, j := l.index(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	best := max(l.level(&l.slots[i], now), l.level(&l.slots[j], now))
	if best < 1 {
		return false, time.Duration((1 - best) / l.cfg.Rate * float64(time.Second))
	}
	for _, k := range [2]int{i, j} {
		l.slots[k].tokens = max(0, l.slots[k].tokens-1)
	}
	return true, 0
}

// refund gives back an attempt taken for a key that proved valid.
func (l *failureLimiter) refund(src netip.Addr) {
	if l == nil || !src.IsValid() {
		return
	}
	i, j := l.index(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range [2]int{i, j} {
		l.slots[k].tokens = min(float64(l.cfg.Burst), l.slots[k].tokens+1)
	}
}
