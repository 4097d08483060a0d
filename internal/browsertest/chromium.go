package browsertest

// This file finds the Chromium binary and holds the switches it runs with.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireAllEnv is the environment variable that turns a missing Chromium
// from a skip into a failure when set to "1", as in CI.
const RequireAllEnv = "TURNKIT_REQUIRE_ALL"

// candidates are the names tried on PATH, then the Debian path.
var candidates = []string{"chromium", "chromium-browser", "/usr/bin/chromium"}

// errNoChromium reports that no Chromium binary was found.
var errNoChromium = errors.New("browsertest: chromium is not installed (apt-get install chromium)")

// findChromium returns the first of names that lookPath resolves.
func findChromium(lookPath func(string) (string, error), names []string) (string, error) {
	for _, n := range names {
		if p, err := lookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: looked for %v", errNoChromium, names)
}

// ChromiumPath returns the path of the system Chromium: "chromium" or
// "chromium-browser" on PATH, else /usr/bin/chromium. Without one the test
// is skipped, or fails when TURNKIT_REQUIRE_ALL=1.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	return chromiumPath(t, exec.LookPath, os.Getenv)
}

func chromiumPath(t testing.TB, lookPath func(string) (string, error), getenv func(string) string) string {
	t.Helper()
	p, err := findChromium(lookPath, candidates)
	if err != nil {
		if getenv(RequireAllEnv) == "1" {
			t.Fatalf("%v, and %s=1", err, RequireAllEnv)
		} else {
			t.Skipf("%v; skipping", err)
		}
	}
	return p
}

// baseFlags are the switches every browser runs with: headless, no sandbox
// (the tests run as root in containers), no GPU, no QUIC, nothing fetched
// in the background, every host name but 127.0.0.1 unresolvable, and
// WebRTC host candidates with real addresses instead of mDNS names. A value
// of true is a bare switch.
func baseFlags() [][2]any {
	return [][2]any{
		{"headless", "new"},
		{"no-sandbox", true},
		{"disable-gpu", true},
		{"disable-quic", true},
		{"no-first-run", true},
		{"no-default-browser-check", true},
		{"disable-background-networking", true},
		{"disable-component-update", true},
		{"disable-sync", true},
		{"disable-extensions", true},
		{"disable-default-apps", true},
		{"disable-breakpad", true},
		{"disable-dev-shm-usage", true},
		{"mute-audio", true},
		{"hide-scrollbars", true},
		{"password-store", "basic"},
		{"host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"},
		{"disable-features", "WebRtcHideLocalIpsWithMdns"},
	}
}
