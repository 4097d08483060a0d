package relay_test

import (
	"testing"

	"github.com/turnkit/turnkit/internal/leakcheck"
)

// TestMain fails the package if a test leaves relay or pion goroutines
// running after every server and client was closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }
