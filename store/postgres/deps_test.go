package postgres_test

import (
	"slices"
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

// TestDeps: the backend imports, of turnkit, package store and the
// internal migration loader only, links no other database driver, and
// talks to PostgreSQL through pgx itself, not database/sql.
func TestDeps(t *testing.T) {
	depstest.Only(t, ".", "github.com/turnkit/turnkit", "github.com/turnkit/turnkit/store",
		"github.com/turnkit/turnkit/store/postgres", "github.com/turnkit/turnkit/internal/migrations")
	depstest.Check(t, ".", "modernc.org/", "github.com/lib/pq", "github.com/mattn/go-sqlite3")
	imports := depstest.Imports(t, ".")
	if slices.Contains(imports, "database/sql") {
		t.Errorf("store/postgres imports database/sql: %v", imports)
	}
	if !slices.Contains(imports, "github.com/jackc/pgx/v5/pgxpool") {
		t.Errorf("store/postgres does not import pgxpool: %v", imports)
	}
}
