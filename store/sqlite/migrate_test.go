package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// Migrations of a test schema. Each fails if it runs twice: CREATE TABLE
// without IF NOT EXISTS.
const (
	m1 = "CREATE TABLE one (x INTEGER);"
	m2 = "CREATE TABLE two (x INTEGER); INSERT INTO one VALUES (2);"
	m3 = "CREATE TABLE three (x INTEGER);"
)

func migrations(files ...string) fstest.MapFS {
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
	if err := migrate(t.Context(), db, migrations("0001_one.sql", m1)); err != nil {
		t.Fatalf("first migration: %v", err)
	}
	if v := version(t, db); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	all := migrations("0001_one.sql", m1, "0002_two.sql", m2, "0003_three.sql", m3)
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
	err := migrate(t.Context(), db, migrations("0001_one.sql", m1, "0002_bad.sql", bad))
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
	if err := migrate(t.Context(), db, migrations("0001_one.sql", m1)); err == nil {
		t.Error("migrate of a database at version 5 with 1 migration succeeded, want an error")
	}
	if got := tables(t, db); got != "" {
		t.Errorf("tables = %s, want none", got)
	}
}

// TestLoadMigrations: names must be numbered 1, 2, 3… without gaps or
// repeats.
func TestLoadMigrations(t *testing.T) {
	cases := []struct {
		name string
		fsys fstest.MapFS
		ok   bool
	}{
		{"Embedded", nil, true},
		{"InOrder", migrations("0001_a.sql", m1, "0002_b.sql", m2, "README", "not SQL"), true},
		{"Gap", migrations("0001_a.sql", m1, "0003_c.sql", m3), false},
		{"Repeat", migrations("0001_a.sql", m1, "01_b.sql", m2), false},
		{"StartsAtTwo", migrations("0002_b.sql", m2), false},
		{"NoNumber", migrations("init.sql", m1), false},
		{"Zero", migrations("0000_a.sql", m1), false},
		{"None", migrations("README", "x"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ms []migration
			var err error
			if c.fsys == nil {
				ms, err = loadMigrations(embedded)
			} else {
				ms, err = loadMigrations(c.fsys)
			}
			if (err == nil) != c.ok {
				t.Fatalf("loadMigrations: %v, want ok=%v", err, c.ok)
			}
			for i, m := range ms {
				if m.version != i+1 || m.sql == "" {
					t.Errorf("migration %d = %+v, want version %d with SQL", i, m, i+1)
				}
			}
		})
	}
}
