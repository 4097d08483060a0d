package turnkit_test

import (
	"testing"

	"github.com/turnkit/turnkit/internal/leakcheck"
)

// TestMain fails the package if a test leaves Kit, relay or pion goroutines
// running after everything was closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }
