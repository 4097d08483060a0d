package relay

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestTokenBucketMatchesRateLimiter replays random traces of (time, size)
// through the bucket and through golang.org/x/time/rate's Limiter with the
// same rate and burst, and requires the same decision at every step. The
// rates cost a whole number of nanoseconds per byte, so the bucket computes
// exactly; rate.Limiter computes in floating point, so a size within 1e-6
// of the tokens it holds (a call on the boundary, decided by its rounding)
// is made one byte larger, which both refuse.
func TestTokenBucketMatchesRateLimiter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perSecond float64
		burst     int
		maxSize   int
		maxGap    time.Duration
	}{
		{"default-cap", 6_250_000, 625_000, 1500, 300 * time.Microsecond}, // 50 Mbit/s, a tenth of a second
		{"small-burst", 1_000_000, 1500, 1500, 2 * time.Millisecond},
		{"tiny-rate", 1000, 100, 120, 200 * time.Millisecond},
		{"fast", 125_000_000, 65536, 9000, 20 * time.Microsecond}, // 1 Gbit/s
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.burst)))
			start := time.Unix(1_700_000_000, 0)
			ref := rate.NewLimiter(rate.Limit(tc.perSecond), tc.burst)
			b := newTokenBucket(tc.perSecond, tc.burst, start)
			now := start
			var passed, refused int
			for i := range 200_000 {
				now = now.Add(time.Duration(rng.Int64N(int64(tc.maxGap/time.Microsecond)+1)) * time.Microsecond)
				n := rng.IntN(tc.maxSize + 1)
				if i%997 == 0 {
					n = tc.burst + 1 + rng.IntN(10) // over a full bucket
				}
				if tok := ref.TokensAt(now); math.Abs(tok-float64(n)) < 1e-6 {
					n++
				}
				want := ref.AllowN(now, n)
				if got := b.AllowN(now, n); got != want {
					t.Fatalf("step %d: AllowN(+%v, %d) = %v, rate.Limiter says %v", i, now.Sub(start), n, got, want)
				}
				if want {
					passed++
				} else {
					refused++
				}
			}
			if passed == 0 || refused == 0 {
				t.Fatalf("trace passed %d and refused %d: it does not exercise both sides", passed, refused)
			}
		})
	}
}

// TestTokenBucketBoundaries checks a full new bucket, refusal past the
// burst, an exact refill and a refusal that takes nothing.
func TestTokenBucketBoundaries(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	b := newTokenBucket(1000, 100, start) // 1 ms a byte
	for _, step := range []struct {
		at   time.Duration
		n    int
		want bool
	}{
		{0, 101, false}, // more than the burst, even when full
		{0, 100, true},  // a new bucket is full
		{0, 1, false},   // empty
		{0, 0, true},    // nothing always passes
		{999 * time.Microsecond, 1, false},
		{time.Millisecond, 1, true}, // one byte refilled after exactly 1 ms
		{time.Millisecond, 1, false},
		{51 * time.Millisecond, 51, false}, // 50 bytes back: a refused call takes nothing
		{51 * time.Millisecond, 50, true},
		{time.Hour, 100, true}, // refilled to the burst, no further
		{time.Hour, 1, false},
		{time.Hour, -1, false},
	} {
		if got := b.AllowN(start.Add(step.at), step.n); got != step.want {
			t.Fatalf("AllowN(+%v, %d) = %v, want %v", step.at, step.n, got, step.want)
		}
	}
}

// TestTokenBucketConcurrent takes bytes from several goroutines at one
// instant: exactly a full bucket passes, however the calls interleave.
func TestTokenBucketConcurrent(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := newTokenBucket(1e6, 100_000, now)
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10_000 {
				if b.AllowN(now, 7) {
					passed.Add(7)
				}
			}
		})
	}
	wg.Wait()
	if got := passed.Load(); got != 100_000/7*7 {
		t.Fatalf("%d bytes passed at one instant, want %d", got, 100_000/7*7)
	}
}

func TestTokenBucketAllocs(t *testing.T) {
	b := newTokenBucket(6_250_000, 625_000, time.Now())
	if n := testing.AllocsPerRun(1000, func() { b.AllowN(time.Now(), 1000) }); n != 0 {
		t.Fatalf("%v allocations per AllowN", n)
	}
}

// BenchmarkBitrateCap compares the bucket with rate.Limiter on the packet
// path's call, uncontended and from every core at once, with time.Now per
// call as the packet path takes it, and at a fixed instant with no bytes
// (the limiter's own work, without the clock read).
func BenchmarkBitrateCap(b *testing.B) {
	caps := []struct {
		name  string
		allow func(time.Time, int) bool
	}{
		{"rate.Limiter", rate.NewLimiter(1e11, 1<<20).AllowN}, // a rate that lets every call pass
		{"tokenBucket", newTokenBucket(1e11, 1<<20, time.Now()).AllowN},
	}
	for _, c := range caps {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.allow(time.Now(), 1000)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.allow(time.Now(), 1000)
				}
			})
		})
		at := time.Now()
		b.Run(c.name+"/no-clock", func(b *testing.B) {
			for b.Loop() {
				c.allow(at, 0)
			}
		})
		b.Run(c.name+"/no-clock/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.allow(at, 0)
				}
			})
		})
	}
}
