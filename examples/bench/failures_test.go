package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPLoadFailures: a handler that refuses every request makes the
// load fail saying so, with the first answer, and the turnkit minter
// fails on a refusal and on an answer without a credential.
func TestHTTPLoadFailures(t *testing.T) {
	answer := func(code int, body string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	ctx := context.Background()
	down := answer(http.StatusServiceUnavailable, `{"detail":"down"}`)
	if err := post(ctx, http.DefaultClient, down.URL, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `status 503: {"detail":"down"}`) {
		t.Errorf("post to a refusing handler = %v", err)
	}
	if _, err := loadHTTP(ctx, down.URL, []byte(`{}`), 2, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no request succeeded") || !strings.Contains(err.Error(), "status 503") {
		t.Errorf("loadHTTP of a refusing handler = %v", err)
	}

	minter := func(srv *httptest.Server) turnkitMinter {
		return turnkitMinter{url: srv.URL + "/v1/credentials", key: "tk_test", client: srv.Client()}
	}
	for _, tc := range []struct {
		name string
		srv  *httptest.Server
		want string
	}{
		{"refused", answer(http.StatusUnauthorized, `{"detail":"unknown key"}`), "status 401"},
		{"no credential", answer(http.StatusOK, `{"username":"u"}`), "answer without username and credential"},
		{"not JSON", answer(http.StatusOK, `<html>`), "answer without username and credential"},
	} {
		if creds, err := minter(tc.srv).mint(ctx, 3); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: mint = %v, %v; want an error saying %q", tc.name, creds, err, tc.want)
		}
	}
	creds, err := minter(answer(http.StatusOK, `{"username":"u","credential":"p"}`)).mint(ctx, 3)
	if err != nil || len(creds) != 3 || creds[2] != (credential{"u", "p"}) {
		t.Errorf("mint = %v, %v; want three credentials", creds, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := minter(answer(http.StatusOK, `{"username":"u","credential":"p"}`)).mint(cancelled, 3); err == nil {
		t.Error("mint with its context cancelled succeeded")
	}
}

// TestChildOutput: a child's output keeps its last bytes, and its lines
// reach onLine whole, without their line ends, however they are split.
func TestChildOutput(t *testing.T) {
	tail := newTailBuffer(8)
	_, _ = tail.Write([]byte("0123456789"))
	_, _ = tail.Write([]byte("ab"))
	if got := tail.String(); got != "456789ab" {
		t.Errorf("tail = %q, want the last 8 bytes", got)
	}

	var lines []string
	w := &lineWriter{tail: newTailBuffer(1 << 10), onLine: func(l string) { lines = append(lines, l) }}
	for _, chunk := range []string{"one\r\ntw", "o\n", "\nthree"} {
		_, _ = w.Write([]byte(chunk))
	}
	if strings.Join(lines, "|") != "one|two|" {
		t.Errorf("lines %q, want one, two and an empty one; three is not ended yet", lines)
	}
	if got := w.tail.String(); got != "one\r\ntwo\n\nthree" {
		t.Errorf("tail %q", got)
	}
	_, _ = w.Write([]byte(strings.Repeat("x", 65<<10)))
	if len(w.pending) != 0 {
		t.Errorf("a line that never ends is kept: %d bytes", len(w.pending))
	}
}

// TestFileNames: the chart is linked by its name beside the report, and
// coturn's log is quoted from a line start, at most 4 KiB of it.
func TestFileNames(t *testing.T) {
	for prefix, want := range map[string]string{"": "", "bench": "bench.png", "docs/bench/run-c": "run-c.png"} {
		if got := imageName(prefix); got != want {
			t.Errorf("imageName(%q) = %q, want %q", prefix, got, want)
		}
	}
	dir := t.TempDir()
	if got := coturnLogTail(dir); got != "" {
		t.Errorf("log tail without a log = %q", got)
	}
	log := strings.Repeat("0: : an earlier line of the log\n", 200) + "0: : the last line\n"
	if err := os.WriteFile(filepath.Join(dir, "turnserver.log"), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	got := coturnLogTail(dir)
	if len(got) > 4096 || !strings.HasPrefix(got, "0: : an earlier") || !strings.HasSuffix(got, "the last line\n") {
		t.Errorf("log tail of %d bytes: %d bytes, %q…", len(log), len(got), got[:min(40, len(got))])
	}
}
