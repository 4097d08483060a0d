package admin_test

import (
	"slices"
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

// TestDeps: package admin imports neither the root package (which imports
// it) nor the relay, a store backend or a SQL driver: it works on the
// interfaces it declares.
func TestDeps(t *testing.T) {
	deps := depstest.Check(t, ".", "github.com/turnkit/turnkit/relay", "github.com/turnkit/turnkit/store/", "github.com/turnkit/turnkit/selector",
		"github.com/pion/", "database/sql", "modernc.org/", "github.com/jackc/")
	if slices.Contains(deps, "github.com/turnkit/turnkit") {
		t.Error("admin imports the root package")
	}
}
