package relay_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoStorageDeps: a game server that imports relay alone must not link a
// SQL driver or turnkit's storage.
func TestNoStorageDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"database/sql", "modernc.org/", "github.com/lib/pq", "github.com/jackc/",
		"github.com/mattn/go-sqlite3", "github.com/turnkit/turnkit/store", "github.com/turnkit/turnkit/selector"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned %d packages; expected the relay's dependency tree", len(deps))
	}
	for _, dep := range deps {
		if dep == "github.com/turnkit/turnkit" {
			t.Errorf("relay imports the root package")
		}
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("relay depends on %s", dep)
			}
		}
	}
}
