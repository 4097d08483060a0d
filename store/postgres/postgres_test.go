package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/turnkit/turnkit/internal/leakcheck"
	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
	"github.com/turnkit/turnkit/store/storetest"
)

// TestMain shares one PostgreSQL server among the tests, stops it when
// they end, and then fails the run if a subscription goroutine is left.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if code == 0 {
		if leaked := leakcheck.Leaked(5 * time.Second); leaked != "" {
			os.Stderr.WriteString("goroutines left running after the tests:\n" + leaked + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// openStore opens a Store on dsn; the caller closes it.
func openStore(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestConformance runs the shared suite against stores made by Open, each
// on a database of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openStore(t, pgtest.DSN(t))
	})
}

// TestShared runs the cases of several nodes on one database. Each handle
// is a Store with a pool of its own: made by Open for odd handles, by New
// on a pool of the test's, which it closes after the Store, for even ones.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) storetest.Shared {
		dsn := pgtest.DSN(t)
		handles := 0
		return storetest.Shared{
			Open: func(t *testing.T) store.Store {
				if handles++; handles%2 == 1 {
					return openStore(t, dsn)
				}
				pool, err := pgxpool.New(t.Context(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(pool.Close) // runs after the suite closes the Store
				s, err := postgres.New(t.Context(), pool)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return s
			},
			Interrupt: func(t *testing.T) { terminateListeners(t, dsn) },
		}
	})
}

// terminateListeners ends, from the server's side, every backend of the
// database that a subscription listens on, and fails the test if there
// was none.
func terminateListeners(t *testing.T, dsn string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(*) FROM (
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()) AS ended`,
		postgres.ListenerName).Scan(&n)
	if err != nil {
		t.Fatalf("terminate listeners: %v", err)
	}
	if n == 0 {
		t.Fatal("no listening backend to terminate")
	}
}

// TestNewLeavesPoolOpen: Close of a Store made by New leaves the caller's
// pool usable, and a second Close is harmless.
func TestNewLeavesPoolOpen(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := postgres.New(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApp(t.Context(), store.App{ID: "a", Status: store.AppActive, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	var name string
	if err := pool.QueryRow(t.Context(), `SELECT id FROM apps`).Scan(&name); err != nil || name != "a" {
		t.Fatalf("the caller's pool after Store.Close: %q, %v", name, err)
	}
	if _, err := postgres.New(t.Context(), nil); err == nil {
		t.Error("New(nil pool) succeeded")
	}
}

// TestOpenErrors: a DSN that cannot be parsed or reached fails Open with
// an error that does not show the password.
func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cases := []struct{ name, dsn string }{
		{"Unparsable", "postgres://u:s3cret@127.0.0.1:notaport/db"},
		{"Unreachable", "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2&sslmode=disable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := postgres.Open(ctx, c.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", c.dsn)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open error shows the password: %v", err)
			}
		})
	}
}

// TestForeignNotification: a notification on the channel that is not a
// change (sent by another program) makes subscribers drop every cache.
func TestForeignNotification(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn)
	defer s.Close()
	got := make(chan store.Change, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(ctx, func(c store.Change) { got <- c }) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe = %v, want %v", err, context.Canceled)
		}
	}()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	// The subscription starts listening at a moment it does not report:
	// notify until something arrives.
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if _, err := conn.Exec(t.Context(), `SELECT pg_notify($1, 'not json')`, postgres.Channel); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-got:
			if c != (store.Change{Kind: store.ChangeAll}) {
				t.Fatalf("a foreign notification gave %+v, want ChangeAll", c)
			}
			return
		case <-tick.C:
		case <-deadline:
			t.Fatal("no notification reached the subscriber within 10s")
		}
	}
}
