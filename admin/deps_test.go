package admin_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: package admin imports neither the root package (which imports
// it) nor the relay, a store backend or a SQL driver: it works on the
// interfaces it declares.
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned %d packages; expected admin's dependency tree", len(deps))
	}
	forbidden := []string{"github.com/turnkit/turnkit/relay", "github.com/turnkit/turnkit/store/", "github.com/turnkit/turnkit/selector",
		"github.com/pion/", "database/sql", "modernc.org/", "github.com/jackc/"}
	for _, dep := range deps {
		if dep == "github.com/turnkit/turnkit" {
			t.Error("admin imports the root package")
		}
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("admin depends on %s", dep)
			}
		}
	}
}
