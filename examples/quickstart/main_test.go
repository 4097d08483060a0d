package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestQuickstart runs the quickstart on loopback ports, follows its printed
// instructions (the API key and the curl call), restarts it on the same
// file and checks the key is not printed again, and that it shuts down when
// told to.
func TestQuickstart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	o := options{httpAddr: "127.0.0.1:0", turnAddr: "127.0.0.1:0", dbPath: db}

	out, addr, stop := start(t, o)
	m := regexp.MustCompile(`(?m)^api key: (tk_[a-z2-7]{32})$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no api key line in the output:\n%s", out)
	}
	if !strings.Contains(out.String(), "curl -s -X POST http://"+addr+"/v1/credentials") {
		t.Fatalf("no ready curl command for %s in the output:\n%s", addr, out)
	}
	res, err := http.Post("http://"+addr+"/v1/credentials", "application/json", strings.NewReader(`{"key": "`+m[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Username string   `json:"username"`
		URLs     []string `json:"urls"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(body.Username, ":demo_") || len(body.URLs) != 3 {
		t.Fatalf("credentials: status %d, %+v", res.StatusCode, body)
	}
	stop()

	out, _, stop = start(t, o)
	if strings.Contains(out.String(), "api key:") || !strings.Contains(out.String(), "exists") {
		t.Fatalf("second run printed:\n%s", out)
	}
	stop()
}

func start(t *testing.T, o options) (*bytes.Buffer, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &bytes.Buffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, out, slog.New(slog.DiscardHandler), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("quickstart stopped: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("quickstart did not start within 10 s")
	}
	return out, addr, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("quickstart shutdown: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("quickstart did not stop within 10 s")
		}
	}
}
