package browsertest

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestFindChromium: the first name found wins, and none found is an error
// that says what to install.
func TestFindChromium(t *testing.T) {
	found := map[string]string{"chromium-browser": "/opt/bin/chromium-browser", "/usr/bin/chromium": "/usr/bin/chromium"}
	look := func(name string) (string, error) {
		if p, ok := found[name]; ok {
			return p, nil
		}
		return "", exec.ErrNotFound
	}
	if p, err := findChromium(look, candidates); err != nil || p != "/opt/bin/chromium-browser" {
		t.Fatalf("findChromium = %q, %v; want the one on PATH", p, err)
	}
	delete(found, "chromium-browser")
	if p, err := findChromium(look, candidates); err != nil || p != "/usr/bin/chromium" {
		t.Fatalf("findChromium = %q, %v; want the Debian path", p, err)
	}
	delete(found, "/usr/bin/chromium")
	if _, err := findChromium(look, candidates); !errors.Is(err, errNoChromium) {
		t.Fatalf("findChromium with none = %v, want errNoChromium", err)
	}
}

// recorder is a testing.TB that records Skipf and Fatalf instead of
// stopping the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

// TestChromiumPathMissing: without Chromium the test is skipped, saying
// what to install, or fails when TURNKIT_REQUIRE_ALL=1.
func TestChromiumPathMissing(t *testing.T) {
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	for _, env := range []string{"", "0", "1"} {
		r := &recorder{TB: t}
		chromiumPath(r, none, func(name string) string {
			if name == RequireAllEnv {
				return env
			}
			return ""
		})
		if env == "1" {
			if r.failed == "" || r.skipped != "" || !strings.Contains(r.failed, "apt-get install chromium") {
				t.Errorf("%s=%q: failed %q, skipped %q; want a failure", RequireAllEnv, env, r.failed, r.skipped)
			}
		} else if r.skipped == "" || r.failed != "" || !strings.Contains(r.skipped, "apt-get install chromium") {
			t.Errorf("%s=%q: failed %q, skipped %q; want a skip", RequireAllEnv, env, r.failed, r.skipped)
		}
	}
	found := func(n string) (string, error) { return "/usr/bin/" + n, nil }
	r := &recorder{TB: t}
	if p := chromiumPath(r, found, func(string) string { return "1" }); p != "/usr/bin/chromium" || r.failed != "" || r.skipped != "" {
		t.Errorf("with chromium on PATH: %q, failed %q, skipped %q", p, r.failed, r.skipped)
	}
}
