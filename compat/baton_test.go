package compat_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// batonAnswer is the documented answer of Baton's POST /v1/credentials.
type batonAnswer struct {
	Username   string `json:"username"`
	Credential string `json:"credential"`
	TTL        int64  `json:"ttl"`
	Region     string `json:"region"`
	IceServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"iceServers"`
}

// checkBatonShape checks an answer against the documented shape: the
// five members, one iceServers entry with the same credential and the four
// URLs in order (stun, turn udp, turn tcp, turns).
func checkBatonShape(t *testing.T, r response) batonAnswer {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var members map[string]any
	r.json(t, &members)
	for _, m := range []string{"username", "credential", "ttl", "region", "iceServers"} {
		if _, ok := members[m]; !ok {
			t.Errorf("answer lacks %q: %s", m, r.body)
		}
	}
	var a batonAnswer
	r.json(t, &a)
	if len(a.IceServers) != 1 || a.IceServers[0].Username != a.Username || a.IceServers[0].Credential != a.Credential || a.Credential == "" {
		t.Fatalf("iceServers %+v, want one entry with the answer's credential", a.IceServers)
	}
	urls := a.IceServers[0].URLs
	want := []string{"stun:", "turn:", "turn:", "turns:"}
	suffix := []string{"", "?transport=udp", "?transport=tcp", "?transport=tcp"}
	if len(urls) != len(want) {
		t.Fatalf("urls %v, want stun, turn udp, turn tcp and turns", urls)
	}
	for i, u := range urls {
		if !strings.HasPrefix(u, want[i]) || !strings.HasSuffix(u, suffix[i]) {
			t.Errorf("urls[%d] = %q, want %s…%s", i, u, want[i], suffix[i])
		}
	}
	return a
}

// TestBatonDocumentedRequest replays the document's curl call and checks
// the documented answer: the username encodes the expiry, ttl 3600, the
// region echoed, and the credential allocates over each of the four URLs'
// transports (TLS included) and relays to a peer.
func TestBatonDocumentedRequest(t *testing.T) {
	e := newEnv(t, withTLS, opt(inRegion("eu-central")))
	peer := turntest.Echo(t, echoIP)
	before := e.clock.Now()
	r := e.do(t, http.MethodPost, "/v1/credentials", hdr("Authorization", e.bearer(), "Content-Type", "application/json"),
		`{ "ttl": 3600, "region": "eu-central" }`)
	a := checkBatonShape(t, r)
	if a.TTL != 3600 || a.Region != "eu-central" {
		t.Errorf("ttl %d region %q, want 3600 eu-central", a.TTL, a.Region)
	}
	u, err := relay.ParseUsername(a.Username)
	if err != nil || u.AppID != e.app.App.ID {
		t.Fatalf("username %q: %v", a.Username, err)
	}
	if d := u.Expires.Sub(before.Truncate(time.Second)); d < time.Hour || d > time.Hour+time.Second {
		t.Errorf("the username's expiry is %s away, want an hour", d)
	}
	for _, url := range a.IceServers[0].URLs[1:] {
		t.Run(url[:strings.Index(url, ":")]+" "+url[strings.LastIndex(url, "=")+1:], func(t *testing.T) {
			rc, err := e.allocate(t, url, a.Username, a.Credential)
			if err != nil {
				t.Fatalf("Allocate with %s: %v", url, err)
			}
			roundTrip(t, rc, peer, "baton "+url)
		})
	}
}

// TestBatonParameters: the default TTL, regions named by slug, the
// region rules of the app, and the native form on the same path.
func TestBatonParameters(t *testing.T) {
	e := newEnv(t, withTLS, opt(inRegion("eu-central")), opt(withRelays(otherTLSRelay("lon-1", "uk-london", "192.0.2.20"))))
	post := func(t *testing.T, body string) response {
		return e.do(t, http.MethodPost, "/v1/credentials", hdr("Authorization", e.bearer(), "Content-Type", "application/json"), body)
	}
	t.Run("defaults", func(t *testing.T) {
		for _, body := range []string{"", "{}", `{"ttl": null, "region": null}`} {
			r := e.do(t, http.MethodPost, "/v1/credentials", hdr("Authorization", e.bearer()), body)
			a := checkBatonShape(t, r)
			region := "eu-central" // the relay chosen, least loaded: the local one or London
			if strings.Contains(a.IceServers[0].URLs[0], "192.0.2.20") {
				region = "uk-london"
			}
			if a.TTL != 3600 || a.Region != region {
				t.Errorf("%q: ttl %d region %q, want the default 3600 s and the relay's region %q", body, a.TTL, a.Region, region)
			}
		}
	})
	t.Run("ttl", func(t *testing.T) {
		for body, want := range map[string]int64{`{"ttl": 60}`: 60, `{"ttl": "90"}`: 90, `{"ttl": 86400}`: 86400} {
			if a := checkBatonShape(t, post(t, body)); a.TTL != want {
				t.Errorf("%s: ttl %d, want %d", body, a.TTL, want)
			}
		}
	})
	t.Run("region elsewhere", func(t *testing.T) {
		r := post(t, `{"region": "uk-london"}`)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "192.0.2.20") || !strings.Contains(string(r.body), `"region":"uk-london"`) {
			t.Fatalf("status %d %s, want the London relay", r.status, r.body)
		}
	})
	t.Run("region without a relay", func(t *testing.T) {
		r := post(t, `{"region": "ap-sydney"}`)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.errorText(t), "ap-sydney") {
			t.Fatalf("status %d %s, want 503 naming the region", r.status, r.body)
		}
	})
	t.Run("unknown region", func(t *testing.T) {
		r := post(t, `{"region": "eu-centrall"}`)
		if r.status != http.StatusBadRequest || !strings.Contains(r.errorText(t), "eu-centrall") {
			t.Fatalf("status %d %s, want 400 naming the slug", r.status, r.body)
		}
	})
	t.Run("region not enabled", func(t *testing.T) {
		ctx := context.Background()
		if err := e.kit.SetAppRegions(ctx, e.app.App.ID, []string{"eu-central"}); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = e.kit.SetAppRegions(ctx, e.app.App.ID, nil) }()
		r := post(t, `{"region": "uk-london"}`)
		if r.status != http.StatusForbidden || !strings.Contains(r.errorText(t), "uk-london") {
			t.Fatalf("status %d %s, want 403 naming the region", r.status, r.body)
		}
		checkBatonShape(t, post(t, `{"region": "eu-central"}`))
	})
	t.Run("native form on the same path", func(t *testing.T) {
		r := e.do(t, http.MethodPost, "/v1/credentials", hdr("Content-Type", "application/json"),
			fmt.Sprintf(`{"key": %q, "expiry_ttl": 5}`, e.app.Key))
		var native struct {
			TTL  int64    `json:"ttl"`
			URLs []string `json:"urls"`
		}
		r.json(t, &native)
		if r.status != http.StatusOK || native.TTL != 300 || len(native.URLs) != 4 {
			t.Fatalf("native form: status %d %s, want 200 with ttl 300 (minutes) and the relay's URLs", r.status, r.body)
		}
	})
}

// TestBatonRefusals: each refusal has its status and a Baton error body.
func TestBatonRefusals(t *testing.T) {
	e := newEnv(t, opt(inRegion("eu-central")))
	auth := e.bearer()
	key := fmt.Sprintf("%q", e.app.Key)
	cases := []refusal{
		{"both key forms", "POST", "", []string{"Authorization", auth}, `{"key": ` + key + `}`, 400, "not both"},
		{"both key forms, key null", "POST", "", []string{"Authorization", auth}, `{"key": null, "ttl": 60}`, 400, "not both"},
		{"basic scheme", "POST", "", []string{"Authorization", "Basic dXNlcjpwdw=="}, "", 401, "Bearer"},
		{"empty bearer", "POST", "", []string{"Authorization", "Bearer"}, "", 401, "Bearer"},
		{"unknown key", "POST", "", []string{"Authorization", "Bearer tk_nosuchkeynosuchkeynosuchkey12"}, "", 401, "invalid API key"},
		{"form body", "POST", "", []string{"Authorization", auth, "Content-Type", "application/x-www-form-urlencoded"}, "ttl=60", 415, "JSON"},
		{"oversized body", "POST", "", []string{"Authorization", auth}, `{"region": "` + strings.Repeat("a", 5000) + `"}`, 413, "4096"},
		{"oversized query", "POST", "?q=" + strings.Repeat("a", 5000), []string{"Authorization", auth}, "", 413, "query"},
		{"query parameter", "POST", "?ttl=60", []string{"Authorization", auth}, "", 400, "ttl"},
		{"native member", "POST", "", []string{"Authorization", auth}, `{"expiry_ttl": 10}`, 400, "expiry_ttl"},
		{"repeated member", "POST", "", []string{"Authorization", auth}, `{"ttl": 60, "ttl": 70}`, 400, "twice"},
		{"ttl zero", "POST", "", []string{"Authorization", auth}, `{"ttl": 0}`, 400, "ttl"},
		{"ttl negative", "POST", "", []string{"Authorization", auth}, `{"ttl": -60}`, 400, "ttl"},
		{"ttl fraction", "POST", "", []string{"Authorization", auth}, `{"ttl": 60.5}`, 400, "ttl"},
		{"ttl over the maximum", "POST", "", []string{"Authorization", auth}, `{"ttl": 90000}`, 400, "at most"},
		{"ttl boolean", "POST", "", []string{"Authorization", auth}, `{"ttl": true}`, 400, "ttl"},
		{"region not a string", "POST", "", []string{"Authorization", auth}, `{"region": 1}`, 400, "region"},
		{"region with a control character", "POST", "", []string{"Authorization", auth}, `{"region": "eu-central\u0000"}`, 400, "not a known region"},
		{"GET", "GET", "", []string{"Authorization", auth}, "", 405, "POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, "/v1/credentials"+c.target, hdr(c.header...), c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.status == http.StatusMethodNotAllowed {
				return // the native handler answers the method before the forms part
			}
			if msg := r.errorText(t); !strings.Contains(msg, c.has) || strings.Contains(msg, e.app.Key) {
				t.Errorf("error %q, want it to name %q and never the key", msg, c.has)
			}
		})
	}
}
