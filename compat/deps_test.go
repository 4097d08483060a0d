package compat_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: compat imports, of turnkit's packages, only internal/httpx,
// store and selector — never the root package, which imports compat, nor
// the relay or a store backend.
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/turnkit/turnkit/compat":         true,
		"github.com/turnkit/turnkit/internal/httpx": true,
		"github.com/turnkit/turnkit/store":          true,
		"github.com/turnkit/turnkit/selector":       true,
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned %d packages; expected the package's dependency tree", len(deps))
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "github.com/turnkit/turnkit") && !allowed[dep] {
			t.Errorf("compat depends on %s", dep)
		}
	}
}
