package turnkit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

func TestCredentialsHTTP(t *testing.T) {
	tk := newTestKit(t)
	ctx := context.Background()
	key := tk.app.Key
	withKey := func(extra string) string {
		if extra == "" {
			return fmt.Sprintf(`{"key": %q}`, key)
		}
		return fmt.Sprintf(`{"key": %q, %s}`, key, extra)
	}

	revokedID, revokedKey, err := tk.AddKey(ctx, tk.app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.RevokeKey(ctx, revokedID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		body       string
		wantStatus int
		wantTTL    int64  // for 200
		wantDetail string // substring, for errors
	}{
		{"default ttl", withKey(""), 200, 600, ""},
		{"ttl as string", withKey(`"expiry_ttl": "15"`), 200, 900, ""},
		{"ttl as number", withKey(`"expiry_ttl": 30`), 200, 1800, ""},
		{"ttl null is default", withKey(`"expiry_ttl": null`), 200, 600, ""},
		{"ttl at max", withKey(`"expiry_ttl": 1440`), 200, 86400, ""},
		{"host_ip v4", withKey(`"host_ip": "198.51.100.7"`), 200, 600, ""},
		{"host_ip v6", withKey(`"host_ip": "2001:db8::1"`), 200, 600, ""},
		{"unknown key", `{"key": "tk_doesnotexistdoesnotexistdoesnot"}`, 401, 0, "invalid API key"},
		{"revoked key", fmt.Sprintf(`{"key": %q}`, revokedKey), 401, 0, "invalid API key"},
		{"oversized key", fmt.Sprintf(`{"key": %q}`, strings.Repeat("k", 300)), 401, 0, "invalid API key"},
		{"missing key", `{}`, 400, 0, "key is required"},
		{"empty key", `{"key": ""}`, 400, 0, "key is required"},
		{"null key", `{"key": null}`, 400, 0, "key is required"},
		{"empty body", ``, 400, 0, "key is required"},
		{"key wrong type", `{"key": 12}`, 400, 0, `"key"`},
		{"host_ip 999.1.1.1", withKey(`"host_ip": "999.1.1.1"`), 400, 0, "host_ip"},
		{"host_ip with port", withKey(`"host_ip": "1.2.3.4:80"`), 400, 0, "host_ip"},
		{"host_ip empty", withKey(`"host_ip": ""`), 400, 0, "host_ip"},
		{"host_ip wrong type", withKey(`"host_ip": 7`), 400, 0, "host_ip"},
		{"ttl 0", withKey(`"expiry_ttl": "0"`), 400, 0, "expiry_ttl"},
		{"ttl -5", withKey(`"expiry_ttl": "-5"`), 400, 0, "expiry_ttl"},
		{"ttl -5 number", withKey(`"expiry_ttl": -5`), 400, 0, "expiry_ttl"},
		{"ttl abc", withKey(`"expiry_ttl": "abc"`), 400, 0, "expiry_ttl"},
		{"ttl above max", withKey(`"expiry_ttl": "1441"`), 400, 0, "expiry_ttl"},
		{"ttl huge", withKey(`"expiry_ttl": 1e30`), 400, 0, "expiry_ttl"},
		{"ttl fraction", withKey(`"expiry_ttl": 1.5`), 400, 0, "expiry_ttl"},
		{"ttl bool", withKey(`"expiry_ttl": true`), 400, 0, "expiry_ttl"},
		{"ttl object", withKey(`"expiry_ttl": {}`), 400, 0, "expiry_ttl"},
		{"ttl padded string", withKey(`"expiry_ttl": " 10"`), 400, 0, "expiry_ttl"},
		{"unknown field", withKey(`"ttl": 10`), 400, 0, "unknown field"},
		{"trailing data", withKey("") + `{}`, 400, 0, "after the JSON object"},
		{"not JSON", `key=abc`, 400, 0, "invalid JSON"},
		{"array body", `[]`, 400, 0, "invalid JSON"},
		{"truncated JSON", `{"key": "abc"`, 400, 0, "invalid JSON"},
		{"64 KiB body", withKey(`"host_ip": "` + strings.Repeat("1", 64<<10) + `"`), 413, 0, "too large"},
		{"field name in upper case", fmt.Sprintf(`{"KEY": %q}`, key), 400, 0, "unknown field"},
		{"field name in mixed case", withKey(`"Expiry_TTL": 10`), 400, 0, "unknown field"},
		{"duplicate field", withKey(fmt.Sprintf(`"key": %q`, key)), 400, 0, "twice"},
		{"duplicate ttl", withKey(`"expiry_ttl": 5, "expiry_ttl": 10`), 400, 0, "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, res := tk.post(tc.body)
			if status != tc.wantStatus {
				t.Fatalf("status %d (detail %q), want %d", status, res.Detail, tc.wantStatus)
			}
			if status == 200 {
				if res.TTL != tc.wantTTL || res.Username == "" || res.Credential == "" || len(res.URLs) == 0 {
					t.Fatalf("response %+v, want ttl %d and a credential", res, tc.wantTTL)
				}
				return
			}
			if !strings.Contains(res.Detail, tc.wantDetail) {
				t.Fatalf("detail %q, want it to mention %q", res.Detail, tc.wantDetail)
			}
			if strings.Contains(res.Detail, key) {
				t.Fatalf("detail %q echoes the API key", res.Detail)
			}
		})
	}
}

func TestCredentialsHTTPMethodAndHeaders(t *testing.T) {
	tk := newTestKit(t)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			req, _ := http.NewRequest(method, tk.http.URL+"/v1/credentials", nil)
			res, err := tk.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
				t.Fatalf("%s: status %d, Allow %q; want 405 and Allow: POST", method, res.StatusCode, res.Header.Get("Allow"))
			}
		})
	}
	t.Run("bearer is not the native form", func(t *testing.T) {
		status, res := tk.do(http.MethodPost, "/v1/credentials", strings.NewReader(fmt.Sprintf(`{"key": %q}`, tk.app.Key)),
			http.Header{"Authorization": {"Bearer " + tk.app.Key}})
		if status != 400 || strings.Contains(res.Detail, tk.app.Key) {
			t.Fatalf("status %d detail %q, want 400 without the key", status, res.Detail)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		res, err := tk.http.Client().Post(tk.http.URL+"/v1/nothing", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
	})
	t.Run("no-store", func(t *testing.T) {
		res, err := tk.http.Client().Post(tk.http.URL+"/v1/credentials", "application/json",
			strings.NewReader(fmt.Sprintf(`{"key": %q}`, tk.app.Key)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q, want no-store on credentials", res.Header.Get("Cache-Control"))
		}
	})
}

func TestAppStatusAtIssuance(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	body := fmt.Sprintf(`{"key": %q}`, tk.app.Key)
	steps := []struct {
		name   string
		do     func() error
		status int
		detail string
	}{
		{"active", func() error { return nil }, 200, ""},
		{"paused", func() error { return tk.PauseApp(ctx, tk.app.App.ID) }, 403, "paused"},
		{"resumed", func() error { return tk.ResumeApp(ctx, tk.app.App.ID) }, 200, ""},
		{"deleting", func() error { return tk.MarkAppForDeletion(ctx, tk.app.App.ID) }, 403, "deletion"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		status, res := tk.post(body)
		if status != s.status || !strings.Contains(res.Detail, s.detail) {
			t.Fatalf("%s: status %d detail %q, want %d mentioning %q", s.name, status, res.Detail, s.status, s.detail)
		}
	}
}

// TestCredentialExpiryMatchesTTL: the username's expiry is now + ttl.
func TestCredentialExpiryMatchesTTL(t *testing.T) {
	tk := newTestKit(t)
	res := tk.credentials(`"expiry_ttl": 7`)
	var exp int64
	if _, err := fmt.Sscanf(res.Username, "%d:", &exp); err != nil {
		t.Fatalf("username %q: %v", res.Username, err)
	}
	want := tk.clock.Now().Add(7 * time.Minute).Unix()
	if exp < want-1 || exp > want {
		t.Fatalf("expiry %d, want %d", exp, want)
	}
}

// BenchmarkIssueCredential measures POST /v1/credentials through the
// handler with a warm key cache, beside a baseline handler that only drains
// the body and writes a fixed JSON answer through the same request and
// recorder plumbing, so the two can be compared as a ratio.
func BenchmarkIssueCredential(b *testing.B) {
	kit, key := newBenchKit(b)
	body := fmt.Sprintf(`{"key": %q, "host_ip": "198.51.100.7", "expiry_ttl": "10"}`, key)
	baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"username":"u","credential":"c","urls":[]}`))
	})
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"handler=baseline", baseline}, {"handler=credentials", kit.Handler()}} {
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/credentials", strings.NewReader(body))
				rec := httptest.NewRecorder()
				h.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

func newBenchKit(b *testing.B) (*turnkit.Kit, string) {
	b.Helper()
	kit := openKit(b, turnkit.Config{
		DBPath:     filepath.Join(b.TempDir(), "turnkit.db"),
		Relay:      relay.Config{UDPAddrs: []string{"127.0.0.1:0"}},
		RateLimits: turnkit.RateLimits{PerKey: -1, PerApp: -1}, // measure issuance, not the limiter
	})
	app, err := kit.CreateApp(context.Background(), turnkit.NewApp{})
	if err != nil {
		b.Fatal(err)
	}
	return kit, app.Key
}
