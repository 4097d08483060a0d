package browsertest_test

import (
	"testing"

	"github.com/turnkit/turnkit/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
