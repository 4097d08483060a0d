// Package depstest checks, from a test, which packages a turnkit package
// links, with `go list -deps`: an import that would make an embedder link
// the root package, a store backend, a SQL driver or Prometheus where it
// asked for none of them fails a test instead.
//
//	func TestDeps(t *testing.T) {
//		depstest.Check(t, ".", "database/sql", "github.com/turnkit/turnkit/store/")
//	}
package depstest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// minDeps is the fewest packages a dependency list of a turnkit package
// can hold: the runtime alone brings more. A shorter list means go list
// did not report the tree, and a check of it would pass for nothing.
const minDeps = 10

// List returns the import paths of pkg and of every package it depends
// on, in the order `go list -deps pkg` prints them: pkg itself last. pkg
// is an import path, or a directory such as "." (the package under test).
// The test is skipped when the go tool is not on PATH; it fails when go
// list fails, or returns fewer than 10 packages.
func List(t testing.TB, pkg string) []string {
	t.Helper()
	deps := goList(t, "-deps", pkg)
	if len(deps) < minDeps {
		t.Fatalf("go list -deps %s returned %d packages (%v); expected its dependency tree", pkg, len(deps), deps)
	}
	return deps
}

// Check fails t once for each dependency of pkg (as [List] returns them)
// whose import path starts with one of forbidden, and returns the whole
// list for further checks. A prefix that should not match its siblings
// ends in "/": "github.com/turnkit/turnkit/store/" forbids the backends
// and allows package store.
func Check(t testing.TB, pkg string, forbidden ...string) []string {
	t.Helper()
	deps := List(t, pkg)
	name := deps[len(deps)-1]
	for _, dep := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("%s depends on %s", name, dep)
				break
			}
		}
	}
	return deps
}

// Only fails t once for each dependency of pkg (as [List] returns them)
// whose import path starts with scope but is none of allowed, which are
// matched whole, and returns the whole list for further checks. With
// scope "github.com/turnkit/turnkit" it names every package of turnkit
// that pkg may link, pkg itself included.
func Only(t testing.TB, pkg, scope string, allowed ...string) []string {
	t.Helper()
	deps := List(t, pkg)
	name := deps[len(deps)-1]
	for _, dep := range deps {
		if strings.HasPrefix(dep, scope) && !slices.Contains(allowed, dep) {
			t.Errorf("%s depends on %s", name, dep)
		}
	}
	return deps
}

// Imports returns the import paths that pkg imports itself, as
// `go list -f '{{join .Imports " "}}' pkg` prints them, for checks that
// concern what a package uses directly rather than what it links. Like
// [List], it skips without the go tool and fails when go list fails.
func Imports(t testing.TB, pkg string) []string {
	t.Helper()
	return goList(t, "-f", `{{join .Imports " "}}`, pkg)
}

// goList runs the go tool's list command with args and returns the fields
// of its output.
func goList(t testing.TB, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, append([]string{"list"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.Fields(string(out))
}
