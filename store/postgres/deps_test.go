package postgres_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goList runs go list with args on this package and returns the fields of
// its output.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, append([]string{"list"}, append(args, ".")...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, out)
	}
	return strings.Fields(string(out))
}

// TestDeps: the backend imports package store and nothing else of
// turnkit, links no other database driver, and talks to PostgreSQL
// through pgx itself, not database/sql.
func TestDeps(t *testing.T) {
	deps := goList(t, "-deps")
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned %d packages; expected the backend's dependency tree", len(deps))
	}
	for _, dep := range deps {
		switch {
		case dep == "github.com/turnkit/turnkit/store", dep == "github.com/turnkit/turnkit/store/postgres":
		case strings.HasPrefix(dep, "github.com/turnkit/turnkit"):
			t.Errorf("store/postgres depends on %s", dep)
		case strings.HasPrefix(dep, "modernc.org/"), strings.HasPrefix(dep, "github.com/lib/pq"):
			t.Errorf("store/postgres links another database driver: %s", dep)
		}
	}
	imports := goList(t, "-f", "{{join .Imports \" \"}}")
	if slices.Contains(imports, "database/sql") {
		t.Errorf("store/postgres imports database/sql: %v", imports)
	}
	if !slices.Contains(imports, "github.com/jackc/pgx/v5/pgxpool") {
		t.Errorf("store/postgres does not import pgxpool: %v", imports)
	}
}
