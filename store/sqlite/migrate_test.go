package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/turnkit/turnkit/internal/migrations"
)

// Migrations of a test schema. Each fails if it runs twice: CREATE TABLE
// without IF NOT EXISTS.
const (
	m1 = "CREATE TABLE one (x INTEGER);"
	m2 = "CREATE TABLE two (x INTEGER); INSERT INTO one VALUES (2);"
	m3 = "CREATE TABLE three (x INTEGER);"
)

// migrationFS returns a file system holding migrations/ with the files of
// name-content pairs.
func migrationFS(files ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i < len(files); i += 2 {
		fsys["migrations/"+files[i]] = &fstest.MapFile{Data: []byte(files[i+1])}
	}
	return fsys
}

func testDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func version(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func tables(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// TestMigrateInOrderOnce: a database at version 1 gets migrations 2 and 3,
// in order, and none of them again on the next run.
func TestMigrateInOrderOnce(t *testing.T) {
	db := testDB(t)
	if err := migrate(t.Context(), db, migrationFS("0001_one.sql", m1)); err != nil {
		t.Fatalf("first migration: %v", err)
	}
	if v := version(t, db); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	all := migrationFS("0001_one.sql", m1, "0002_two.sql", m2, "0003_three.sql", m3)
	for run := range 2 {
		if err := migrate(t.Context(), db, all); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if v := version(t, db); v != 3 {
			t.Errorf("run %d: version = %d, want 3", run, v)
		}
	}
	if got := tables(t, db); got != "one,three,two" {
		t.Errorf("tables = %s, want one,three,two", got)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM one").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows inserted by migration 2 = %d, %v; want 1 (it ran once)", n, err)
	}
}

// TestMigrateFailureRollsBack: a failing migration leaves neither its
// changes nor a new version behind, and the ones before it stay applied.
func TestMigrateFailureRollsBack(t *testing.T) {
	db := testDB(t)
	bad := "CREATE TABLE two (x INTEGER); INSERT INTO nowhere VALUES (1);"
	err := migrate(t.Context(), db, migrationFS("0001_one.sql", m1, "0002_bad.sql", bad))
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("migrate = %v, want an error naming 0002_bad.sql", err)
	}
	if v := version(t, db); v != 1 {
		t.Errorf("version = %d, want 1", v)
	}
	if got := tables(t, db); got != "one" {
		t.Errorf("tables = %s, want one", got)
	}
}

// TestMigrateRefusesNewer: a database ahead of the migrations is refused.
func TestMigrateRefusesNewer(t *testing.T) {
	db := testDB(t)
	if _, err := db.ExecContext(t.Context(), "PRAGMA user_version = 5"); err != nil {
		t.Fatal(err)
	}
	if err := migrate(t.Context(), db, migrationFS("0001_one.sql", m1)); err == nil {
		t.Error("migrate of a database at version 5 with 1 migration succeeded, want an error")
	}
	if got := tables(t, db); got != "" {
		t.Errorf("tables = %s, want none", got)
	}
}

// TestEmbeddedMigrations: the migrations compiled into the binary load,
// numbered 1, 2, 3…, each with its SQL. (The naming rules themselves are
// tested with internal/migrations.)
func TestEmbeddedMigrations(t *testing.T) {
	ms, err := migrations.Load(embedded, "migrations")
	if err != nil {
		t.Fatalf("the embedded migrations: %v", err)
	}
	for i, m := range ms {
		if m.Version != i+1 || m.SQL == "" {
			t.Errorf("migration %d = %+v, want version %d with SQL", i, m, i+1)
		}
	}
}
