package sqlite_test

import (
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

// TestDeps: the backend imports, of turnkit, package store and the
// internal migration loader only, and links no other database driver.
func TestDeps(t *testing.T) {
	depstest.Only(t, ".", "github.com/turnkit/turnkit", "github.com/turnkit/turnkit/store",
		"github.com/turnkit/turnkit/store/sqlite", "github.com/turnkit/turnkit/internal/migrations")
	depstest.Check(t, ".", "github.com/jackc/", "github.com/lib/pq", "github.com/mattn/go-sqlite3")
}
