package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
)

// post sends body to path with the content type and returns the status,
// the headers and the body.
func post(t *testing.T, url, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

// TestICE: POST /api/ice answers an iceServers array of TURN URLs of the
// asked transport with a credential that allocates on the relay, and
// refuses malformed, oversized and hostile requests with a clear detail.
func TestICE(t *testing.T) {
	app := startApp(t, nil)
	udpAddr := app.kit.Relay().UDPAddrs()[0].String()
	tcpAddr := app.kit.Relay().TCPAddrs()[0].String()

	ok := []struct {
		name, body string
		want       []string
	}{
		{"udp", `{"transport": "udp"}`, []string{"turn:" + udpAddr + "?transport=udp"}},
		{"tcp", `{"transport": "tcp"}`, []string{"turn:" + tcpAddr + "?transport=tcp"}},
		{"both", `{}`, []string{"turn:" + udpAddr + "?transport=udp", "turn:" + tcpAddr + "?transport=tcp"}},
		{"empty body", ``, []string{"turn:" + udpAddr + "?transport=udp", "turn:" + tcpAddr + "?transport=tcp"}},
		{"empty transport", `{"transport": ""}`, []string{"turn:" + udpAddr + "?transport=udp", "turn:" + tcpAddr + "?transport=tcp"}},
		{"null", `null`, []string{"turn:" + udpAddr + "?transport=udp", "turn:" + tcpAddr + "?transport=tcp"}},
		{"at the size limit", `{"transport": "udp"}` + strings.Repeat(" ", maxICEBody-len(`{"transport": "udp"}`)), []string{"turn:" + udpAddr + "?transport=udp"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := post(t, app.url+"/api/ice", "application/json; charset=utf-8", tc.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", h.Get("Cache-Control"))
			}
			if strings.Contains(body, app.key) {
				t.Fatal("the answer holds the API key")
			}
			var res iceResponse
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
			if len(res.IceServers) != 1 || !slices.Equal(res.IceServers[0].URLs, tc.want) {
				t.Fatalf("iceServers %+v, want the URLs %v", res.IceServers, tc.want)
			}
			s := res.IceServers[0]
			if !strings.Contains(s.Username, ":"+demoAppID+"_") || s.Credential == "" || res.TTL != 600 {
				t.Fatalf("credential %q / %q, ttl %d", s.Username, s.Credential, res.TTL)
			}
		})
	}

	t.Run("the credential allocates", func(t *testing.T) {
		for _, network := range []string{"udp", "tcp"} {
			_, _, body := post(t, app.url+"/api/ice", "application/json", `{"transport": "`+network+`"}`)
			var res iceResponse
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
			addr := udpAddr
			if network == "tcp" {
				addr = tcpAddr
			}
			c := turntest.Dial(t, network, addr, nil, res.IceServers[0].Username, res.IceServers[0].Credential, app.kit.Relay().Realm())
			if _, err := turntest.Allocate(t, c); err != nil {
				t.Fatalf("allocate over %s with the page's credential: %v", network, err)
			}
		}
	})

	bad := []struct {
		name, contentType, body string
		status                  int
		detail                  string
	}{
		{"no content type", "", `{}`, 415, "application/json"},
		{"form post", "application/x-www-form-urlencoded", `transport=udp`, 415, "application/json"},
		{"text", "text/plain", `{}`, 415, "application/json"},
		{"bad media type", "application/json; =", `{}`, 415, "application/json"},
		{"unknown transport", "application/json", `{"transport": "sctp"}`, 400, `"sctp"`},
		{"upper case", "application/json", `{"transport": "UDP"}`, 400, `"UDP"`},
		{"number", "application/json", `{"transport": 5}`, 400, "string"},
		{"unknown field", "application/json", `{"transport": "udp", "key": "tk_x"}`, 400, "unknown field"},
		{"trailing data", "application/json", `{"transport": "udp"} {}`, 400, "after the JSON object"},
		{"truncated", "application/json", `{"transport": "ud`, 400, "invalid JSON"},
		{"array", "application/json", `["udp"]`, 400, "invalid JSON"},
		{"oversized", "application/json", `{"transport": "udp"}` + strings.Repeat(" ", maxICEBody), 413, "over 1024 bytes"},
		{"long transport", "application/json", `{"transport": "` + strings.Repeat("u", 900) + `"}`, 400, "…"},
		{"control characters", "application/json", `{"transport": "udp\u0000\n"}`, 400, "must be"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := post(t, app.url+"/api/ice", tc.contentType, tc.body)
			var e struct{ Detail string }
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("status %d, body not a JSON detail: %q", status, body)
			}
			if status != tc.status || !strings.Contains(e.Detail, tc.detail) {
				t.Fatalf("status %d detail %q, want %d with %q", status, e.Detail, tc.status, tc.detail)
			}
			if len(e.Detail) > 200 {
				t.Fatalf("detail of %d bytes echoes the input", len(e.Detail))
			}
		})
	}

	t.Run("wrong method", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(m, app.url+"/api/ice", nil)
			status, h, _ := do(t, req)
			if status != http.StatusMethodNotAllowed || h.Get("Allow") != http.MethodPost {
				t.Errorf("%s: status %d, Allow %q", m, status, h.Get("Allow"))
			}
		}
	})
}

// TestICERefused: when the Issuer refuses, the page gets 503 or 429 with a
// detail that says nothing of the app, since it never named one.
func TestICERefused(t *testing.T) {
	t.Run("paused app", func(t *testing.T) {
		app := startApp(t, nil)
		if err := app.kit.PauseApp(context.Background(), demoAppID); err != nil {
			t.Fatal(err)
		}
		status, _, body := post(t, app.url+"/api/ice", "application/json", `{}`)
		if status != http.StatusServiceUnavailable || strings.Contains(body, "paused") || strings.Contains(body, demoAppID) {
			t.Fatalf("status %d: %s", status, body)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		app := startApp(t, func(c *turnkit.Config) { c.RateLimits = turnkit.RateLimits{PerApp: 0.001, PerAppBurst: 1} })
		if status, _, body := post(t, app.url+"/api/ice", "application/json", `{}`); status != http.StatusOK {
			t.Fatalf("first request: %d %s", status, body)
		}
		status, h, body := post(t, app.url+"/api/ice", "application/json", `{}`)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Fatalf("second request: %d, Retry-After %q: %s", status, h.Get("Retry-After"), body)
		}
	})
	t.Run("no URL for the transport", func(t *testing.T) {
		app := startApp(t, func(c *turnkit.Config) {
			c.NoRelay = true
			c.Relays = []turnkit.RelayEndpoint{{ID: "udp-only", Region: "x", URLs: []string{"turn:127.0.0.1:3478?transport=udp"}}}
		})
		status, _, body := post(t, app.url+"/api/ice", "application/json", `{"transport": "tcp"}`)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "over tcp") {
			t.Fatalf("status %d: %s", status, body)
		}
		status, _, body = post(t, app.url+"/api/relay", "application/json", ``)
		if status != http.StatusMethodNotAllowed {
			t.Fatalf("POST /api/relay: %d %s", status, body)
		}
		res, err := http.Get(app.url + "/api/relay")
		if err != nil {
			t.Fatal(err)
		}
		var meter relayResponse
		err = json.NewDecoder(res.Body).Decode(&meter)
		res.Body.Close()
		if err != nil || meter != (relayResponse{}) {
			t.Fatalf("GET /api/relay without an in-process relay: %+v, %v", meter, err)
		}
	})
}

// TestRoutes: the page and its files are served with a CSP, other methods
// are refused, and turnkit's own API answers next to the app's routes.
func TestRoutes(t *testing.T) {
	app := startApp(t, nil)
	cases := []struct {
		method, path string
		status       int
		contentType  string
	}{
		{"GET", "/", 200, "text/html"},
		{"HEAD", "/", 200, "text/html"},
		{"GET", "/app.js", 200, "javascript"},
		{"GET", "/style.css", 200, "text/css"},
		{"GET", "/missing.png", 404, ""},
		{"GET", "/../main.go", 404, ""},
		{"POST", "/", 405, "application/json"},
		{"GET", "/api/relay", 200, "application/json"},
		{"POST", "/v1/credentials", 401, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, app.url+tc.path, strings.NewReader(`{"key": "tk_not_a_key_of_this_kit_at_all"}`))
			req.Header.Set("Content-Type", "application/json")
			status, h, body := do(t, req)
			if status != tc.status || !strings.Contains(h.Get("Content-Type"), tc.contentType) {
				t.Fatalf("status %d, Content-Type %q, want %d and %q: %.200s", status, h.Get("Content-Type"), tc.status, tc.contentType, body)
			}
			if status == 200 && tc.path != "/api/relay" && !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("no CSP on %s", tc.path)
			}
		})
	}
}

// TestFilterURLs: the transport filter keeps turn: URLs by their
// ?transport= (UDP without one) and turns: as TCP, and drops the rest.
func TestFilterURLs(t *testing.T) {
	urls := []string{
		"stun:h:3478", "turn:h:3478", "turn:h:3478?transport=udp", "turn:h:3478?transport=tcp",
		"turns:h:443?transport=tcp", "turns:h:5349", "turn:h:1?transport=%zz", "nonsense", "",
		"TURN:h:1", "turn:h:1?transport=sctp",
	}
	cases := map[string][]string{
		"udp": {"turn:h:3478", "turn:h:3478?transport=udp"},
		"tcp": {"turn:h:3478?transport=tcp", "turns:h:443?transport=tcp", "turns:h:5349"},
		"":    {"turn:h:3478", "turn:h:3478?transport=udp", "turn:h:3478?transport=tcp", "turns:h:443?transport=tcp", "turns:h:5349", "turn:h:1?transport=sctp"},
	}
	for transport, want := range cases {
		if got := filterURLs(urls, transport); !slices.Equal(got, want) {
			t.Errorf("filterURLs(%q) = %v, want %v", transport, got, want)
		}
	}
	if got := filterURLs(nil, "udp"); got != nil {
		t.Errorf("filterURLs(nil) = %v", got)
	}
}
