package selector_test

import (
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

// TestDeps: the selector links the standard library and the GeoIP reader
// only, so it imports neither turnkit's root package nor relay (nor
// anything else of turnkit's).
func TestDeps(t *testing.T) {
	allowed := []string{
		"github.com/turnkit/turnkit/selector",
		"github.com/oschwald/geoip2-golang/v2",
		"github.com/oschwald/maxminddb-golang/v2",
		"golang.org/x/sys/", // maxminddb's memory map
	}
	for _, dep := range depstest.List(t, ".") {
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
