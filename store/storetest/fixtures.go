package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// at returns the suite's reference time plus sec seconds. The reference
// time is not in UTC and has a nanosecond part, so a backend has to convert
// it and may round it.
func at(sec int) time.Time {
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	return time.Date(2024, time.May, 6, 7, 8, 9+sec, 123456789, zone)
}

// hashOf returns a key hash derived from s, so that distinct strings give
// distinct hashes.
func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func newApp(id string) store.App {
	return store.App{ID: id, Name: "App " + id, Status: store.AppActive, CreatedAt: at(0)}
}

func newKey(id, appID string, created time.Time) store.APIKey {
	return store.APIKey{ID: id, AppID: appID, Hash: hashOf(id), CreatedAt: created}
}

func newSecret(id string, created time.Time) store.Secret {
	return store.Secret{ID: id, Value: []byte("value of " + id), CreatedAt: created}
}

func newSession(id, appID string) store.Session {
	return store.Session{ID: id, AppID: appID, Username: "1700000000:" + appID, RelayID: "relay1", StartedAt: at(0)}
}

func mustCreateApp(t *testing.T, s store.Store, app store.App) {
	t.Helper()
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatalf("CreateApp(%q): %v", app.ID, err)
	}
}

func mustAddKey(t *testing.T, s store.Store, k store.APIKey) {
	t.Helper()
	if err := s.AddKey(t.Context(), k); err != nil {
		t.Fatalf("AddKey(%q): %v", k.ID, err)
	}
}

func mustAddSecret(t *testing.T, s store.Store, sec store.Secret) {
	t.Helper()
	if err := s.AddSecret(t.Context(), sec); err != nil {
		t.Fatalf("AddSecret(%q): %v", sec.ID, err)
	}
}

func mustOpenSession(t *testing.T, s store.Store, sess store.Session) {
	t.Helper()
	if err := s.OpenSession(t.Context(), sess); err != nil {
		t.Fatalf("OpenSession(%q): %v", sess.ID, err)
	}
}

func mustApp(t *testing.T, s store.Store, id string) store.App {
	t.Helper()
	app, err := s.App(t.Context(), id)
	if err != nil {
		t.Fatalf("App(%q): %v", id, err)
	}
	return app
}

func mustKeyByHash(t *testing.T, s store.Store, hash [32]byte) store.APIKey {
	t.Helper()
	k, err := s.KeyByHash(t.Context(), hash)
	if err != nil {
		t.Fatalf("KeyByHash(%x): %v", hash[:4], err)
	}
	return k
}

func mustAppKeys(t *testing.T, s store.Store, appID string) []store.APIKey {
	t.Helper()
	keys, err := s.AppKeys(t.Context(), appID)
	if err != nil {
		t.Fatalf("AppKeys(%q): %v", appID, err)
	}
	return keys
}

func mustListSecrets(t *testing.T, s store.Store) []store.Secret {
	t.Helper()
	list, err := s.ListSecrets(t.Context())
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	return list
}

func mustSession(t *testing.T, s store.Store, id string) store.Session {
	t.Helper()
	sess, err := s.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("Session(%q): %v", id, err)
	}
	return sess
}

func mustCount(t *testing.T, s store.Store, appID string) int {
	t.Helper()
	n, err := s.CountActiveSessions(t.Context(), appID)
	if err != nil {
		t.Fatalf("CountActiveSessions(%q): %v", appID, err)
	}
	return n
}
