package turnkit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// FuzzCredentialsHandler feeds arbitrary bodies to POST /v1/credentials.
// "$KEY" in the input stands for a valid API key, so the fuzzer reaches the
// success path. The handler never panics, never answers 5xx, always answers
// JSON, and never answers 200 to a body with a member it does not know.
func FuzzCredentialsHandler(f *testing.F) {
	for _, s := range []string{
		`{"key": "$KEY"}`, `{"key": "$KEY", "expiry_ttl": "15"}`, `{"key": "$KEY", "expiry_ttl": 30}`,
		`{"key": "$KEY", "host_ip": "198.51.100.7"}`, `{"key": "$KEY", "ttl": 5}`, `{"key": "$KEY"}{}`,
		`{"key": 5}`, `[]`, ``, `{"key": "$KEY", "expiry_ttl": "Gateway"}`, `{"key": "$KEY", "gateway": "x"}`,
		`{"key": "$KEY", "expiry_ttl": 1e400}`, `{"key":"$KEY","key":"other"}`, "\xff\xfe",
	} {
		f.Add(s)
	}
	h, key := fuzzKit(f)
	known := map[string]bool{"key": true, "host_ip": true, "expiry_ttl": true, "gateway": true}
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "$KEY", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/credentials", strings.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d for %q: body is not a JSON object: %q", rec.Code, body, rec.Body)
		}
		if rec.Code != http.StatusOK {
			if _, ok := out["detail"].(string); !ok {
				t.Fatalf("status %d for %q without a detail: %s", rec.Code, body, rec.Body)
			}
			return
		}
		onlyKnownMembers(t, body, known)
	})
}

// FuzzExchangeHandler feeds arbitrary bodies to POST /v1/exchange ("$KEY"
// stands for a valid key): never a panic, never 5xx, always a JSON object
// of strings, and never 200 to a body with a member it does not know.
func FuzzExchangeHandler(f *testing.F) {
	for _, s := range []string{
		`{"key": "$KEY", "namespace": "room"}`, `{"key": "$KEY", "namespace": "r", "my_transport_address": "1.2.3.4:5"}`,
		`{"key": "$KEY", "namespace": "r", "my_transport_address": "[2001:db8::1]:5"}`, `{"key": "$KEY", "namespace": "r", "wait": 0}`,
		`{"key": "$KEY", "namespace": "", "peer": 1}`, `{"key": "$KEY", "namespace": "r", "wait": -1}`, `{}`, `[`,
	} {
		f.Add(s)
	}
	h, key := fuzzKit(f)
	known := map[string]bool{"key": true, "namespace": true, "my_transport_address": true, "wait": true}
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "$KEY", key)
		if strings.Contains(body, `"wait"`) {
			return // long polls would slow the fuzzer to a crawl; wait is covered by tests
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/exchange", strings.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var out map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d for %q: body is not a JSON object of strings: %q", rec.Code, body, rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		onlyKnownMembers(t, body, known)
	})
}

// fuzzKit opens a Kit with rate limits off and one app, for the handler
// fuzz targets, and returns its handler and the app's key.
func fuzzKit(f *testing.F) (http.Handler, string) {
	f.Helper()
	kit := openKit(f, turnkit.Config{
		DBPath:     filepath.Join(f.TempDir(), "turnkit.db"),
		Relay:      relay.Config{UDPAddrs: []string{"127.0.0.1:0"}},
		RateLimits: turnkit.RateLimits{PerKey: -1, PerApp: -1},
	})
	app, err := kit.CreateApp(context.Background(), turnkit.NewApp{})
	if err != nil {
		f.Fatal(err)
	}
	return kit.Handler(), app.Key
}

// onlyKnownMembers fails the test if body, answered with 200, is not a JSON
// object or has a member outside known.
func onlyKnownMembers(t *testing.T, body string, known map[string]bool) {
	t.Helper()
	var in map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatalf("200 for a body that is not a JSON object: %q", body)
	}
	for k := range in {
		if !known[k] {
			t.Fatalf("200 for a body with the unknown member %q: %q", k, body)
		}
	}
}
