package depstest_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

const self = "github.com/turnkit/turnkit/internal/depstest"

// recorder is a testing.TB that records failures instead of failing:
// Fatalf ends the goroutine it runs in, as testing's does. One goroutine
// uses it at a time.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

// run calls f with a recorder in a goroutine of its own, so that Fatalf
// can end it, and returns the recorder once f has returned or ended.
func run(t *testing.T, f func(tb testing.TB) []string) (*recorder, []string) {
	r := &recorder{TB: t}
	var deps []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		deps = f(r)
	}()
	<-done
	return r, deps
}

// TestCheck: Check reports each dependency with a forbidden prefix once,
// naming the package and the dependency, and nothing when no prefix
// matches; Only reports each dependency in its scope that is not allowed,
// matching the allowed paths whole; List fails on a list too short to be
// a dependency tree and on a package go list cannot find.
func TestCheck(t *testing.T) {
	const many = -1 // more than one failure
	cases := []struct {
		name     string
		check    func(tb testing.TB) []string
		fatal    bool
		failures int    // how many failures are recorded, or many
		first    string // how the first failure starts
		tree     bool   // the list returned is this package's tree
	}{
		{"Clean", func(tb testing.TB) []string { return depstest.Check(tb, self, "database/sql", "github.com/pion/") }, false, 0, "", true},
		{"NoPrefixes", func(tb testing.TB) []string { return depstest.Check(tb, self) }, false, 0, "", true},
		{"Forbidden", func(tb testing.TB) []string { return depstest.Check(tb, self, "os/exec", "os/exe") }, false, 1, self + " depends on os/exec", true},
		{"Prefix", func(tb testing.TB) []string { return depstest.Check(tb, self, "internal/") }, false, many, self + " depends on internal/", true},
		{"TooShort", func(tb testing.TB) []string { return depstest.List(tb, "unsafe") }, true, 1, "go list -deps unsafe returned 1 packages", false},
		{"OnlyAllowed", func(tb testing.TB) []string { return depstest.Only(tb, self, "os", "os", "os/exec") }, false, 0, "", true},
		{"OnlyOther", func(tb testing.TB) []string { return depstest.Only(tb, self, "os", "os") }, false, 1, self + " depends on os/exec", true},
		{"OnlyWhole", func(tb testing.TB) []string { return depstest.Only(tb, self, "os/", "os/e") }, false, 1, self + " depends on os/exec", true},
		{"NoSuchPackage", func(tb testing.TB) []string { return depstest.List(tb, self+"/nosuch") }, true, 1, "go list -deps " + self + "/nosuch: exit status", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, deps := run(t, c.check)
			if r.fatal != c.fatal {
				t.Errorf("fatal = %v, want %v (failures %q)", r.fatal, c.fatal, r.errors)
			}
			if n := len(r.errors); (c.failures == many && n < 2) || (c.failures != many && n != c.failures) {
				t.Errorf("%d failures %q, want %d", n, r.errors, c.failures)
			}
			if c.first != "" && (len(r.errors) == 0 || !strings.HasPrefix(r.errors[0], c.first)) {
				t.Errorf("failures %q, want the first to start %q", r.errors, c.first)
			}
			if c.tree && (len(deps) < 10 || deps[len(deps)-1] != self || !slices.Contains(deps, "os/exec")) {
				t.Errorf("Check returned %v, want the tree of %s, itself last", deps, self)
			}
		})
	}
}

// TestImports: Imports lists what the package imports directly, not what
// those packages import in turn.
func TestImports(t *testing.T) {
	imports := depstest.Imports(t, self)
	if !slices.Equal(imports, []string{"os/exec", "slices", "strings", "testing"}) {
		t.Errorf("Imports(%s) = %v, want [os/exec slices strings testing]", self, imports)
	}
}
