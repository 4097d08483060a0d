package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// testContext checks that every method returns the context's error once
// the context is done, and that a write refused that way changes nothing.
// The store holds records the calls would otherwise succeed on.
func testContext(t *testing.T, open opener) {
	type call struct {
		name string
		do   func(ctx context.Context, s store.Store) error
	}
	seeded := newKey("key1", "app1", at(1))
	calls := []call{
		{"CreateApp", func(ctx context.Context, s store.Store) error { return s.CreateApp(ctx, newApp("app2")) }},
		{"App", func(ctx context.Context, s store.Store) error { _, err := s.App(ctx, "app1"); return err }},
		{"SetAppStatus", func(ctx context.Context, s store.Store) error { return s.SetAppStatus(ctx, "app1", store.AppPaused) }},
		{"AddKey", func(ctx context.Context, s store.Store) error { return s.AddKey(ctx, newKey("key2", "app1", at(2))) }},
		{"KeyByHash", func(ctx context.Context, s store.Store) error { _, err := s.KeyByHash(ctx, seeded.Hash); return err }},
		{"RevokeKey", func(ctx context.Context, s store.Store) error { return s.RevokeKey(ctx, "key1", at(10)) }},
		{"AppKeys", func(ctx context.Context, s store.Store) error { _, err := s.AppKeys(ctx, "app1"); return err }},
		{"AddSecret", func(ctx context.Context, s store.Store) error { return s.AddSecret(ctx, newSecret("k2", at(2))) }},
		{"ListSecrets", func(ctx context.Context, s store.Store) error { _, err := s.ListSecrets(ctx); return err }},
		{"RetireSecret", func(ctx context.Context, s store.Store) error { return s.RetireSecret(ctx, "k1", at(10)) }},
		{"OpenSession", func(ctx context.Context, s store.Store) error { return s.OpenSession(ctx, newSession("sess2", "app1")) }},
		{"CloseSession", func(ctx context.Context, s store.Store) error { return s.CloseSession(ctx, "sess1", at(10)) }},
		{"Session", func(ctx context.Context, s store.Store) error { _, err := s.Session(ctx, "sess1"); return err }},
		{"CountActiveSessions", func(ctx context.Context, s store.Store) error {
			_, err := s.CountActiveSessions(ctx, "app1")
			return err
		}},
	}
	dones := []struct {
		name string
		ctx  func(t *testing.T) context.Context
		want error
	}{
		{"Canceled", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, context.Canceled},
		{"DeadlineExceeded", func(t *testing.T) context.Context {
			ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
			t.Cleanup(cancel)
			return ctx
		}, context.DeadlineExceeded},
	}
	for _, d := range dones {
		t.Run(d.name, func(t *testing.T) {
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					s := open(t)
					seedContext(t, s, seeded)
					err := c.do(d.ctx(t), s)
					if err == nil {
						t.Fatalf("%s with a done context = nil, want %v", c.name, d.want)
					}
					if !errors.Is(err, d.want) {
						t.Errorf("%s with a done context = %v, want it to wrap %v", c.name, err, d.want)
					}
					checkSeedUnchanged(t, s, seeded)
				})
			}
		})
	}
}

// seedContext stores one record of each kind for testContext.
func seedContext(t *testing.T, s store.Store, key store.APIKey) {
	t.Helper()
	mustCreateApp(t, s, newApp("app1"))
	mustAddKey(t, s, key)
	mustAddSecret(t, s, newSecret("k1", at(1)))
	mustOpenSession(t, s, newSession("sess1", "app1"))
}

// checkSeedUnchanged fails unless the store holds exactly what seedContext
// stored.
func checkSeedUnchanged(t *testing.T, s store.Store, key store.APIKey) {
	t.Helper()
	checkApp(t, mustApp(t, s, "app1"), newApp("app1"))
	if _, err := s.App(t.Context(), "app2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("App(app2) after a cancelled CreateApp: error %v, want not found", err)
	}
	checkKeys(t, mustAppKeys(t, s, "app1"), []store.APIKey{key})
	checkSecrets(t, mustListSecrets(t, s), []store.Secret{newSecret("k1", at(1))})
	checkSession(t, mustSession(t, s, "sess1"), newSession("sess1", "app1"))
	if _, err := s.Session(t.Context(), "sess2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(sess2) after a cancelled OpenSession: error %v, want not found", err)
	}
}
