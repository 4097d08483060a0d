package browsertest_test

import (
	"bytes"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/browsertest"
)

const page = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>browsertest</title></head>
<body style="background:#fff"><h1 id="h">hello</h1>
<script>
window.later = (v) => new Promise(resolve => setTimeout(() => resolve(v), 10));
console.log("page loaded");
</script></body></html>`

func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBrowser drives one browser through everything the harness offers:
// open, eval with an awaited promise, a rejected promise, console messages
// and exceptions, a screenshot, and a stop that leaves no process behind.
func TestBrowser(t *testing.T) {
	url := serve(t)
	b := browsertest.Start(t, browsertest.Options{})
	if err := b.Open(url); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Title string `json:"title"`
		N     int    `json:"n"`
	}
	if err := b.Eval(`window.later(41).then(n => ({title: document.title, n: n + 1}))`, &got); err != nil {
		t.Fatal(err)
	}
	if got.Title != "browsertest" || got.N != 42 {
		t.Fatalf("eval = %+v, want the title and 42", got)
	}
	if err := b.Eval(`Promise.reject(new Error("refused on purpose"))`, nil); err == nil || !strings.Contains(err.Error(), "refused on purpose") {
		t.Fatalf("a rejected promise gave %v, want its message", err)
	}
	if err := b.Eval(`undefined`, &got); err == nil {
		t.Fatal("decoding undefined into a struct did not fail")
	}

	// A page that works has no errors; the log line is there.
	msgs, err := b.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Text != "page loaded" || msgs[0].IsError() {
		t.Fatalf("messages = %v, want the one log line", msgs)
	}

	// An error, an uncaught exception and an unhandled rejection are all
	// collected, in order.
	if err := b.Eval(`console.error("bad thing"); setTimeout(() => { throw new TypeError("thrown later") }); Promise.reject(new Error("nobody catches"));
		new Promise(r => setTimeout(r, 50))`, nil); err != nil {
		t.Fatal(err)
	}
	errs, err := b.Errors()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range errs {
		texts = append(texts, m.String())
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"error: bad thing", "TypeError: thrown later", "nobody catches"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}

	shot, err := b.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X != 1024 || sz.Y != 768 {
		t.Errorf("screenshot is %v, want 1024x768", sz)
	}

	pid := b.PID()
	if pid <= 0 {
		t.Fatal("no browser PID")
	}
	profile := profileOf(t, pid)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && bytes.Contains(cmd, []byte(profile)) {
		t.Fatalf("chromium pid %d still runs after Close", pid)
	}
	if _, err := os.Stat(profile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("profile %s still exists after Close: %v", profile, err)
	}
	if err := b.Eval(`1`, nil); err == nil {
		t.Fatal("eval after Close succeeded")
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// profileOf reads the --user-data-dir of the browser process.
func profileOf(t *testing.T, pid int) string {
	t.Helper()
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Skipf("no /proc to check the browser process: %v", err)
	}
	for _, a := range strings.Split(string(cmd), "\x00") {
		if dir, ok := strings.CutPrefix(a, "--user-data-dir="); ok {
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("profile %s of the running browser: %v", dir, err)
			}
			return dir
		}
	}
	t.Fatalf("chromium runs without --user-data-dir: %q", cmd)
	return ""
}

// TestFlags checks the switches the browser really runs with.
func TestFlags(t *testing.T) {
	b := browsertest.Start(t, browsertest.Options{Flags: map[string]any{"lang": "en-US"}})
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(b.PID()) + "/cmdline")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	args := strings.Split(string(cmd), "\x00")
	for _, want := range []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--disable-features=WebRtcHideLocalIpsWithMdns", "--lang=en-US"} {
		found := false
		for _, a := range args {
			found = found || a == want
		}
		if !found {
			t.Errorf("chromium runs without %q: %q", want, args)
		}
	}
}

// TestPageLoadError: a page that fails to load a resource shows up as a
// console error from the network.
func TestPageLoadError(t *testing.T) {
	url := serve(t)
	b := browsertest.Start(t, browsertest.Options{})
	if err := b.Open(url); err != nil {
		t.Fatal(err)
	}
	if err := b.Eval(`new Promise((resolve) => { const i = new Image(); i.onerror = resolve; i.src = "/missing.png"; document.body.append(i) })`, nil); err != nil {
		t.Fatal(err)
	}
	errs, err := b.Errors()
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Source != "network" || !strings.Contains(errs[0].Text, "404") {
		t.Fatalf("errors = %v, want the one 404 from the network", errs)
	}
}
