package main

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/examplestest"
	"github.com/turnkit/turnkit/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestRun runs the web app as main does, on loopback ports: it prints the
// address, serves the page and /api/ice, and stops when told to. The first
// run creates the demo app and prints its key once, which turnkit's own
// API beside the page accepts; a second run on the same file reuses the
// app and prints no key.
func TestRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "webapp.db")
	o := options{httpAddr: "127.0.0.1:0", turnAddr: "127.0.0.1:0", dbPath: db}
	var key string
	for run := 1; run <= 2; run++ {
		out, addr, stop := start(t, o)
		text := out.String()
		if !strings.Contains(text, "open http://"+addr) {
			t.Fatalf("run %d printed %q, want the address %s", run, text, addr)
		}
		m := regexp.MustCompile(`\(shown once\): (tk_[a-z2-7]{32})\n`).FindStringSubmatch(text)
		switch {
		case run == 1 && m == nil:
			t.Fatalf("the first run printed no API key:\n%s", text)
		case run == 1:
			key = m[1]
		case m != nil || !strings.Contains(text, "exists"):
			t.Fatalf("run %d printed:\n%s", run, text)
		}

		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(page, []byte(`<button id="call"`)) {
			t.Fatalf("run %d: GET / %d: %.200s", run, res.StatusCode, page)
		}
		for _, req := range []struct{ path, body string }{
			{"/api/ice", `{"transport": "udp"}`},
			{"/v1/credentials", `{"key": "` + key + `"}`},
		} {
			res, err = http.Post("http://"+addr+req.path, "application/json", strings.NewReader(req.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Contains(body, []byte(":"+demoAppID+"_")) {
				t.Fatalf("run %d: POST %s: %d %s", run, req.path, res.StatusCode, body)
			}
		}
		stop()
	}
}

// start runs the web app as main does, with o, until stop: it returns what
// it printed once ready, the address it serves on, and stop.
func start(t *testing.T, o options) (out *bytes.Buffer, addr string, stop func()) {
	t.Helper()
	return examplestest.Start(t, "webapp", run, o)
}
