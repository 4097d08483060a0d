package turnkit_test

import (
	"testing"

	"github.com/turnkit/turnkit/internal/leakcheck"
	"github.com/turnkit/turnkit/internal/pgtest"
)

// TestMain runs the tests, stops the PostgreSQL server the fleet tests
// started, and fails the package if a test leaves Kit, relay or pion
// goroutines running after everything was closed.
func TestMain(m *testing.M) { leakcheck.MainWith(func() int { return pgtest.Run(m) }) }
