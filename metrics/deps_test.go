package metrics_test

import (
	"slices"
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

// TestCoreDoesNotLinkPrometheus: the root package and relay must not
// depend on Prometheus; only programs that import metrics link it.
func TestCoreDoesNotLinkPrometheus(t *testing.T) {
	for _, pkg := range []string{"github.com/turnkit/turnkit", "github.com/turnkit/turnkit/relay"} {
		deps := depstest.Check(t, pkg, "github.com/prometheus/")
		if slices.Contains(deps, "github.com/turnkit/turnkit/metrics") {
			t.Errorf("%s depends on github.com/turnkit/turnkit/metrics", pkg)
		}
	}
	// The check can fail: metrics itself links Prometheus.
	if deps := depstest.List(t, "github.com/turnkit/turnkit/metrics"); !slices.Contains(deps, "github.com/prometheus/client_golang/prometheus") {
		t.Fatalf("go list -deps metrics does not list client_golang:\n%v", deps)
	}
}
