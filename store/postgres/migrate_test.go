package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
)

// migrationFiles returns the names of the migrations the package embeds,
// in order.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no migrations")
	}
	return names
}

// applied returns the versions and names recorded in schema_migrations,
// in version order.
func applied(t *testing.T, conn *pgx.Conn) (versions []int, names []string) {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var n string
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		versions, names = append(versions, v), append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return versions, names
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// checkMigrated fails unless schema_migrations lists each migration once,
// in order.
func checkMigrated(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	files := migrationFiles(t)
	versions, names := applied(t, conn)
	want := make([]int, len(files))
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(versions, want) || !slices.Equal(names, files) {
		t.Errorf("schema_migrations = %v %v, want %v %v", versions, names, want, files)
	}
}

// TestMigrationsRaced: two Stores opened on a fresh database at the same
// moment both succeed, and the schema is applied once. Ten databases.
func TestMigrationsRaced(t *testing.T) {
	for i := range 10 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			dsn := pgtest.DSN(t)
			var (
				wg     sync.WaitGroup
				start  = make(chan struct{})
				stores [2]*postgres.Store
				errs   [2]error
			)
			for j := range stores {
				wg.Go(func() {
					<-start
					stores[j], errs[j] = postgres.Open(t.Context(), dsn)
				})
			}
			close(start)
			wg.Wait()
			for j, err := range errs {
				if err != nil {
					t.Errorf("Open %d: %v", j, err)
				} else {
					defer stores[j].Close()
				}
			}
			if t.Failed() {
				return
			}
			checkMigrated(t, connect(t, dsn))
			app := store.App{ID: "a", Status: store.AppActive, CreatedAt: time.Now()}
			if err := stores[0].CreateApp(t.Context(), app); err != nil {
				t.Fatal(err)
			}
			if _, err := stores[1].App(t.Context(), "a"); err != nil {
				t.Errorf("the other Store does not see the app: %v", err)
			}
		})
	}
}

// TestMigrationsRunOnce: opening a migrated database again applies
// nothing and keeps its data.
func TestMigrationsRunOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn)
	if err := s.AddSecret(t.Context(), store.Secret{ID: "k1", Value: []byte{1}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn := connect(t, dsn)
	stamps := func() []time.Time {
		var ts []time.Time
		rows, err := conn.Query(t.Context(), `SELECT applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		ts, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	before := stamps()
	for range 3 {
		s = openStore(t, dsn)
		if list, err := s.ListSecrets(t.Context()); err != nil || len(list) != 1 {
			t.Errorf("ListSecrets after reopening = %v, %v; want the one secret", list, err)
		}
		s.Close()
	}
	checkMigrated(t, conn)
	if after := stamps(); !slices.EqualFunc(before, after, time.Time.Equal) {
		t.Errorf("applied_at changed from %v to %v: a migration ran again", before, after)
	}
}

// TestNewerSchemaRefused: a database migrated by a newer build is not
// touched.
func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	openStore(t, dsn).Close()
	conn := connect(t, dsn)
	next := len(migrationFiles(t)) + 1
	if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'future.sql')`, next); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a schema newer than the build")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error %q does not say the schema is newer", err)
	}
}

// TestMigrationFailureAppliesNothing: migrations run in one transaction,
// so one that fails leaves no trace of those before it.
func TestMigrationFailureAppliesNothing(t *testing.T) {
	dsn := pgtest.DSN(t)
	conn := connect(t, dsn)
	// A table that the third migration creates, already there.
	if _, err := conn.Exec(t.Context(), `CREATE TABLE relays (id text)`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a database whose tables clash with the schema")
	}
	if !strings.Contains(err.Error(), "0003_relays.sql") {
		t.Errorf("Open error %q does not name the failed migration", err)
	}
	var tables int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()
		AND tablename IN ('apps', 'balances', 'schema_migrations')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables of the migrations before the failed one were kept, want none", tables)
	}
}

// TestMigrationWaitsForLock: while another session holds the migration
// lock, Open waits, until its context ends; once the lock is free, Open
// proceeds.
func TestMigrationWaitsForLock(t *testing.T) {
	dsn := pgtest.DSN(t)
	holder := connect(t, dsn)
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_lock($1)`, postgres.MigrationLock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open proceeded while another session held the migration lock")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open error %v, want it to wrap %v", err, context.DeadlineExceeded)
	}
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_unlock($1)`, postgres.MigrationLock); err != nil {
		t.Fatal(err)
	}
	openStore(t, dsn).Close()
	checkMigrated(t, holder)
}
