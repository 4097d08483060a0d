package compat_test

import (
	"testing"

	"github.com/turnkit/turnkit/internal/depstest"
)

// TestDeps: compat imports, of turnkit's packages, only internal/httpx,
// store and selector — never the root package, which imports compat, nor
// the relay or a store backend.
func TestDeps(t *testing.T) {
	depstest.Only(t, ".", "github.com/turnkit/turnkit",
		"github.com/turnkit/turnkit/compat",
		"github.com/turnkit/turnkit/internal/httpx",
		"github.com/turnkit/turnkit/store",
		"github.com/turnkit/turnkit/selector")
}
