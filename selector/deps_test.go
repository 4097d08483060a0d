package selector_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: the selector links the standard library and the GeoIP reader
// only, so it imports neither turnkit's root package nor relay (nor
// anything else of turnkit's).
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	allowed := []string{
		"github.com/turnkit/turnkit/selector",
		"github.com/oschwald/geoip2-golang/v2",
		"github.com/oschwald/maxminddb-golang/v2",
		"golang.org/x/sys/", // maxminddb's memory map
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned %d packages; expected the selector's dependency tree", len(deps))
	}
	for _, dep := range deps {
		if first, _, _ := strings.Cut(dep, "/"); !strings.Contains(first, ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(dep, a)
		}
		if !ok {
			t.Errorf("selector depends on %s", dep)
		}
	}
}
