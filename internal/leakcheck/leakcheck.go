// Package leakcheck finds goroutines that tests left running inside turnkit
// or pion code. Test packages call it from TestMain.
package leakcheck

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and then fails the run if goroutines of turnkit or
// pion are still alive after a bounded grace period for exiting ones.
// Use it as the body of TestMain.
func Main(m *testing.M) { MainWith(m.Run) }

// Leaked returns the stacks of goroutines still inside turnkit or pion
// code, waiting up to grace for them to finish; empty means none.
func Leaked(grace time.Duration) string {
	deadline := time.Now().Add(grace)
	for {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "internal/leakcheck.") {
				continue
			}
			ours := strings.Contains(g, "github.com/pion/") || strings.Contains(g, "github.com/turnkit/turnkit")
			if ours && !strings.Contains(g, "testing.tRunner") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MainWith is Main for a TestMain that runs the tests through another
// runner (pgtest.Run, which also stops the test servers): run runs them and
// returns the exit code.
func MainWith(run func() int) {
	code := run()
	if code == 0 {
		if leaked := Leaked(5 * time.Second); leaked != "" {
			os.Stderr.WriteString("goroutines left running after the tests:\n" + leaked + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
