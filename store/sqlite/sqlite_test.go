package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
	"github.com/turnkit/turnkit/store/storetest"
)

// TestConformance runs the shared suite against stores made by Open.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openStore(t, filepath.Join(t.TempDir(), "turnkit.db"))
	})
}

// TestConformanceNew runs the shared suite against stores made by New on a
// database handle of the test's own, which it closes after the store.
func TestConformanceNew(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db := rawDB(t, filepath.Join(t.TempDir(), "turnkit.db"))
		s, err := sqlite.New(t.Context(), db)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	})
}

// TestReopenKeepsData: what one Store wrote, the next Store on the same file
// reads.
func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "turnkit.db")
	at := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	app := store.App{ID: "app1", Name: "One", Status: store.AppPaused, CreatedAt: at}
	key := store.APIKey{ID: "key1", AppID: "app1", Hash: [32]byte{0: 1, 31: 0xff}, CreatedAt: at, RevokedAt: at.Add(time.Hour)}
	sec := store.Secret{ID: "k1", Value: []byte{0, 1, 2, 0xff}, CreatedAt: at, NotAfter: at.Add(24 * time.Hour)}
	sess := store.Session{ID: "sess1", AppID: "app1", Username: "u", RelayID: "r1", StartedAt: at}

	s := openStore(t, path)
	for _, err := range []error{
		s.CreateApp(ctx, app),
		s.AddKey(ctx, key),
		s.AddSecret(ctx, sec),
		s.OpenSession(ctx, sess),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openStore(t, path)
	if got, err := s.App(ctx, "app1"); err != nil || !reflect.DeepEqual(got, app) {
		t.Errorf("App after reopening = %+v, %v; want %+v", got, err, app)
	}
	if got, err := s.KeyByHash(ctx, key.Hash); err != nil || got != key {
		t.Errorf("KeyByHash after reopening = %+v, %v; want %+v", got, err, key)
	}
	if got, err := s.ListSecrets(ctx); err != nil || len(got) != 1 || got[0].ID != sec.ID ||
		string(got[0].Value) != string(sec.Value) || !got[0].CreatedAt.Equal(sec.CreatedAt) || !got[0].NotAfter.Equal(sec.NotAfter) {
		t.Errorf("ListSecrets after reopening = %+v, %v; want [%+v]", got, err, sec)
	}
	if got, err := s.Session(ctx, "sess1"); err != nil || got != sess {
		t.Errorf("Session after reopening = %+v, %v; want %+v", got, err, sess)
	}
	if n, err := s.CountActiveSessions(ctx, "app1"); err != nil || n != 1 {
		t.Errorf("CountActiveSessions after reopening = %d, %v; want 1", n, err)
	}
}

// TestWAL: Open puts the file in WAL mode, which is recorded in the file.
func TestWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "turnkit.db")
	openStore(t, path)
	var mode string
	if err := plainDB(t, path).QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// TestMigrationsRunOnce: opening a migrated file again changes neither its
// schema version nor its schema.
func TestMigrationsRunOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "turnkit.db")
	versions := func() (user, schema int) {
		db := plainDB(t, path)
		defer db.Close()
		if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&user); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(t.Context(), "PRAGMA schema_version").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		return user, schema
	}
	if err := openStore(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	user1, schema1 := versions()
	if user1 < 1 {
		t.Fatalf("user_version after the first Open = %d, want at least 1", user1)
	}
	if err := openStore(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	if user2, schema2 := versions(); user2 != user1 || schema2 != schema1 {
		t.Errorf("after a second Open: user_version %d, schema_version %d; want %d, %d unchanged", user2, schema2, user1, schema1)
	}
}

// TestOpenRefusesNewerSchema: a file migrated by a later build is not
// touched.
func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "turnkit.db")
	if err := openStore(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := plainDB(t, path).ExecContext(t.Context(), "PRAGMA user_version = 1000"); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a file at schema version 1000 succeeded, want an error")
	}
}

// TestNewLeavesCallerDBOpen: Close of a Store made by New does not close
// the caller's handle.
func TestNewLeavesCallerDBOpen(t *testing.T) {
	ctx := t.Context()
	db := rawDB(t, filepath.Join(t.TempDir(), "turnkit.db"))
	s, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM apps").Scan(&n); err != nil {
		t.Fatalf("caller's db after Close: %v", err)
	}
	if n != 1 {
		t.Errorf("apps in the caller's db = %d, want 1", n)
	}
}

// TestNewInMemory: New works on an in-memory database of one connection.
func TestNewInMemory(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	s, err := sqlite.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateApp(t.Context(), store.App{ID: "app1", Status: store.AppActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App(t.Context(), "app1"); err != nil {
		t.Errorf("App: %v", err)
	}
}

// TestCloseClosesWhatOpenOpened: after Close, a Store made by Open has no
// connection left to use.
func TestCloseClosesWhatOpenOpened(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "turnkit.db"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.App(t.Context(), "app1"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("App after Close: error %v, want a closed-database error", err)
	}
	if err := s.CreateApp(t.Context(), store.App{ID: "app1", Status: store.AppActive}); err == nil {
		t.Errorf("CreateApp after Close succeeded, want an error")
	}
}

// TestOpenPath: Open takes file system paths, including names that mean
// something in a URI, and refuses non-file databases.
func TestOpenPath(t *testing.T) {
	for _, name := range []string{"plain.db", "a?b=c.db", "x#y.db", "50%25 off.db", "dir with space/t.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := openStore(t, path).Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file not at %q: %v", path, err)
			}
		})
	}
	for _, path := range []string{"", ":memory:"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// TestTwoStoresOneFile: two Stores on one file (two processes, say) write
// concurrently; the busy timeout makes each wait for the other's lock.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "turnkit.db")
	stores := []*sqlite.Store{openStore(t, path), openStore(t, path)}
	if err := stores[0].CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive}); err != nil {
		t.Fatal(err)
	}
	const perWorker = 25
	var wg sync.WaitGroup
	for i, s := range stores {
		for w := range 4 {
			wg.Go(func() {
				for j := range perWorker {
					id := fmt.Sprintf("s%d-%d-%d", i, w, j)
					if err := s.OpenSession(ctx, store.Session{ID: id, AppID: "app1", StartedAt: time.Now()}); err != nil {
						t.Errorf("OpenSession(%q): %v", id, err)
					}
				}
			})
		}
	}
	wg.Wait()
	for i, s := range stores {
		if n, err := s.CountActiveSessions(ctx, "app1"); err != nil || n != 2*4*perWorker {
			t.Errorf("store %d: CountActiveSessions = %d, %v; want %d", i, n, err, 2*4*perWorker)
		}
	}
}

// TestStorageFormat pins the documented column formats: times as Unix
// nanoseconds with NULL for the zero time, hashes as 32-byte BLOBs.
func TestStorageFormat(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "turnkit.db")
	s := openStore(t, path)
	created := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	if err := s.CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	key := store.APIKey{ID: "key1", AppID: "app1", Hash: [32]byte{0: 0xab}, CreatedAt: created}
	if err := s.AddKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	var (
		nanos     int64
		revoked   sql.NullInt64
		hashType  string
		hashBytes []byte
	)
	err := plainDB(t, path).QueryRowContext(ctx,
		`SELECT created_at, revoked_at, typeof(hash), hash FROM api_keys WHERE id = 'key1'`).
		Scan(&nanos, &revoked, &hashType, &hashBytes)
	if err != nil {
		t.Fatal(err)
	}
	if nanos != created.UnixNano() {
		t.Errorf("created_at = %d, want %d", nanos, created.UnixNano())
	}
	if revoked.Valid {
		t.Errorf("revoked_at of a valid key = %d, want NULL", revoked.Int64)
	}
	if hashType != "blob" || string(hashBytes) != string(key.Hash[:]) {
		t.Errorf("hash stored as %s %x, want blob %x", hashType, hashBytes, key.Hash)
	}
}

// TestRejectedValues: values the file cannot hold, or that would turn a
// revocation or an end into its absence, are refused and change nothing.
func TestRejectedValues(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, filepath.Join(t.TempDir(), "turnkit.db"))
	if err := s.CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddKey(ctx, store.APIKey{ID: "key1", AppID: "app1", Hash: [32]byte{1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenSession(ctx, store.Session{ID: "sess1", AppID: "app1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSecret(ctx, store.Secret{ID: "k1", Value: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	tooEarly := time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		err  error
	}{
		{"CreateAppInvalidStatus", s.CreateApp(ctx, store.App{ID: "app2", Status: "archived"})},
		{"CreateAppTimeOutOfRange", s.CreateApp(ctx, store.App{ID: "app3", Status: store.AppActive, CreatedAt: tooEarly})},
		{"RevokeKeyZeroTime", s.RevokeKey(ctx, "key1", time.Time{})},
		{"RevokeKeyTimeOutOfRange", s.RevokeKey(ctx, "key1", tooEarly)},
		{"CloseSessionZeroTime", s.CloseSession(ctx, "sess1", time.Time{})},
		{"RetireSecretTimeOutOfRange", s.RetireSecret(ctx, "k1", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s succeeded, want an error", c.name)
		}
	}
	for _, id := range []string{"app2", "app3"} {
		if _, err := s.App(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("App(%q) after a refused CreateApp: %v, want not found", id, err)
		}
	}
	if k, err := s.KeyByHash(ctx, [32]byte{1}); err != nil || k.Revoked() {
		t.Errorf("key after refused revocations = %+v, %v; want it valid", k, err)
	}
	if n, err := s.CountActiveSessions(ctx, "app1"); err != nil || n != 1 {
		t.Errorf("CountActiveSessions after a refused close = %d, %v; want 1", n, err)
	}
}

// TestErrorsNameInput: errors say which record failed.
func TestErrorsNameInput(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "turnkit.db"))
	_, err := s.App(t.Context(), "no-such-app")
	if err == nil || !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `"no-such-app"`) {
		t.Errorf("App(no-such-app) error = %v, want not found naming the app", err)
	}
}

// openStore opens a Store on path and closes it when the test ends.
func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens path with the settings New asks of its callers, and closes it
// when the test ends.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000&_foreign_keys=1&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// plainDB opens path with the driver's defaults, to look at the file from
// outside a Store, and closes it when the test ends.
func plainDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
