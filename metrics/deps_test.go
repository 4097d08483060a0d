package metrics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreDoesNotLinkPrometheus: the root package and relay must not
// depend on Prometheus; only programs that import metrics link it.
func TestCoreDoesNotLinkPrometheus(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	for _, pkg := range []string{"github.com/turnkit/turnkit", "github.com/turnkit/turnkit/relay"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s returned %d packages; expected its dependency tree", pkg, len(deps))
		}
		for _, dep := range deps {
			if strings.HasPrefix(dep, "github.com/prometheus/") || dep == "github.com/turnkit/turnkit/metrics" {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
	// The check can fail: metrics itself links Prometheus.
	out, err := exec.Command(goTool, "list", "-deps", "github.com/turnkit/turnkit/metrics").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "github.com/prometheus/client_golang/prometheus\n") {
		t.Fatalf("go list -deps metrics does not list client_golang (%v):\n%s", err, out)
	}
}
