package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// Sizes of the concurrency cases.
const (
	workers = 8
	rounds  = 50
)

// testConcurrency checks that the store is safe for concurrent use: run it
// with -race. Goroutines report with t.Errorf, never t.Fatal.
func testConcurrency(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"OpenCloseSessions", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			mustOpenSession(t, s, newSession("other", "app2"))
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range rounds {
						id := fmt.Sprintf("s-%d-%d", w, i)
						if err := s.OpenSession(t.Context(), newSession(id, "app1")); err != nil {
							t.Errorf("OpenSession(%q): %v", id, err)
							return
						}
						if _, err := s.CountActiveSessions(t.Context(), "app1"); err != nil {
							t.Errorf("CountActiveSessions: %v", err)
						}
						if i%2 == 0 {
							if err := s.CloseSession(t.Context(), id, at(i)); err != nil {
								t.Errorf("CloseSession(%q): %v", id, err)
							}
						}
						if sess, err := s.Session(t.Context(), id); err != nil {
							t.Errorf("Session(%q): %v", id, err)
						} else if sess.Active() != (i%2 == 1) {
							t.Errorf("session %q Active = %v right after this goroutine's writes", id, sess.Active())
						}
					}
				})
			}
			wg.Wait()
			if n, want := mustCount(t, s, "app1"), workers*rounds/2; n != want {
				t.Errorf("CountActiveSessions(app1) = %d, want %d", n, want)
			}
			if n := mustCount(t, s, "app2"); n != 1 {
				t.Errorf("CountActiveSessions(app2) = %d, want 1", n)
			}
		}},
		{"SameAppID", func(t *testing.T, s store.Store) {
			var won atomic.Int32
			var winner atomic.Value
			race(t, func(w int) error {
				name := fmt.Sprintf("from worker %d", w)
				err := s.CreateApp(t.Context(), store.App{ID: "app1", Name: name, Status: store.AppActive, CreatedAt: at(w)})
				if err == nil {
					won.Add(1)
					winner.Store(name)
				}
				return err
			})
			if won.Load() == 1 {
				if got := mustApp(t, s, "app1"); got.Name != winner.Load() {
					t.Errorf("stored app Name = %q, want the one CreateApp that succeeded: %q", got.Name, winner.Load())
				}
			}
		}},
		{"SameKeyHash", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			hash := hashOf("contended")
			var winner atomic.Value
			race(t, func(w int) error {
				k := newKey(fmt.Sprintf("key%d", w), "app1", at(w))
				k.Hash = hash
				err := s.AddKey(t.Context(), k)
				if err == nil {
					winner.Store(k.ID)
				}
				return err
			})
			if got := mustKeyByHash(t, s, hash); got.ID != winner.Load() {
				t.Errorf("KeyByHash returned key %q, want the one AddKey that succeeded: %v", got.ID, winner.Load())
			}
			if keys := mustAppKeys(t, s, "app1"); len(keys) != 1 {
				t.Errorf("AppKeys = %v, want 1 key", keyIDs(keys))
			}
		}},
		{"RevokeSameKey", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app1", at(0))
			mustAddKey(t, s, k)
			firstOf(t, func(w int) error { return s.RevokeKey(t.Context(), "key1", at(100+w)) },
				func() time.Time { return mustKeyByHash(t, s, k.Hash).RevokedAt })
		}},
		{"CloseSameSession", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustOpenSession(t, s, newSession("sess1", "app1"))
			firstOf(t, func(w int) error { return s.CloseSession(t.Context(), "sess1", at(100+w)) },
				func() time.Time { return mustSession(t, s, "sess1").EndedAt })
			if n := mustCount(t, s, "app1"); n != 0 {
				t.Errorf("CountActiveSessions = %d after the session was closed, want 0", n)
			}
		}},
	})
}

// race runs try from workers goroutines at once and fails unless exactly
// one call succeeds and all others return ErrExists.
func race(t *testing.T, try func(w int) error) {
	t.Helper()
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			errs[w] = try(w)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for w, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("worker %d: error %v, want nil or %v", w, err, store.ErrExists)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent calls succeeded, want exactly 1", ok, workers)
	}
}

// firstOf runs set from workers goroutines at once, worker w passing the
// time at(100+w). Every call must succeed, and the time that get then
// returns must be one of those times: whichever call came first.
func firstOf(t *testing.T, set func(w int) error, get func() time.Time) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			if err := set(w); err != nil {
				t.Errorf("worker %d: %v", w, err)
			}
		})
	}
	close(start)
	wg.Wait()
	got := get()
	for w := range workers {
		if d := got.Sub(at(100 + w)); !got.IsZero() && d > -time.Millisecond && d < time.Millisecond {
			return
		}
	}
	t.Errorf("stored time %v is none of the times the calls passed", got)
}
