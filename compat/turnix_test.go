package compat_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// turnixAnswer is the documented answer of POST /credentials/ice.
type turnixAnswer struct {
	IceServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"iceServers"`
}

// checkTurnixShape checks an answer against the documented shape: a STUN
// entry with stun: URLs only and no credential, then a TURN entry with the
// credential, turn:…?transport=udp and ?transport=tcp, and turns: URLs
// where the relay has TLS. It returns the TURN entry's URLs, username and
// credential.
func checkTurnixShape(t *testing.T, r response, tls bool) ([]string, string, string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var keys map[string]any
	r.json(t, &keys)
	if len(keys) != 1 || keys["iceServers"] == nil {
		t.Fatalf("answer members %v, want iceServers alone", keys)
	}
	var a turnixAnswer
	r.json(t, &a)
	if len(a.IceServers) != 2 {
		t.Fatalf("iceServers = %+v, want a STUN and a TURN entry", a.IceServers)
	}
	stun, turn := a.IceServers[0], a.IceServers[1]
	if len(stun.URLs) == 0 || stun.Username != "" || stun.Credential != "" {
		t.Errorf("STUN entry %+v, want stun: URLs without a credential", stun)
	}
	for _, u := range stun.URLs {
		if !strings.HasPrefix(u, "stun:") {
			t.Errorf("STUN entry URL %q", u)
		}
	}
	if turn.Username == "" || turn.Credential == "" {
		t.Errorf("TURN entry %+v without a credential", turn)
	}
	var udp, tcp, turns bool
	for _, u := range turn.URLs {
		switch {
		case strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=udp"):
			udp = true
		case strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=tcp"):
			tcp = true
		case strings.HasPrefix(u, "turns:"):
			turns = true
		default:
			t.Errorf("TURN entry URL %q", u)
		}
	}
	if !udp || !tcp || turns != tls {
		t.Errorf("TURN entry URLs %v: want turn udp and tcp, and turns: %v", turn.URLs, tls)
	}
	return turn.URLs, turn.Username, turn.Credential
}

// TestTurnixDocumentedRequests replays every request of the Turnix
// document (curl, Ruby's HTTParty, Node's fetch, Dart's http, Java's
// HttpClient; with the headers and body encodings each sends) and checks
// the documented answer, the region each one lands in, the TTL and the
// metadata recorded on its session.
func TestTurnixDocumentedRequests(t *testing.T) {
	e := newEnv(t, opt(inRegion("eu-central")), opt(withRelays(otherRelay("sin-1", "ap-singapore", "192.0.2.10"))))
	peer := turntest.Echo(t, echoIP)
	const (
		jsonCT = "application/json"
		formCT = "application/x-www-form-urlencoded"
		ip     = "12.34.56.78"
	)
	auth := e.bearer()
	meta := store.Metadata{Initiator: "OPTIONAL_INITIATOR_CLIENT_VALUE", Receiver: "OPTIONAL_RECEIVER_CLIENT_VALUE"}
	withRoom := func(room string) store.Metadata { m := meta; m.Room = room; return m }
	cases := []struct {
		name   string
		header []string
		body   string
		relay  string // the relay expected: "local" (eu-central) or the other's IP
		meta   store.Metadata
	}{
		// Simple request.
		{"simple/curl", []string{"Authorization", auth, "Content-Type", jsonCT}, "", "local", store.Metadata{}},
		{"simple/ruby", []string{"Authorization", auth}, "", "local", store.Metadata{}},
		{"simple/node", []string{"Authorization", auth, "Content-Type", jsonCT}, "", "local", store.Metadata{}},
		{"simple/dart", []string{"Authorization", auth, "Accept", jsonCT, "Content-Type", jsonCT}, "", "local", store.Metadata{}},
		{"simple/java", []string{"Authorization", auth, "Accept", jsonCT, "Content-Type", jsonCT}, "", "local", store.Metadata{}},
		// Region selection; curl -d sends a form, HTTParty form-encodes a
		// hash body whatever Content-Type says, fetch sends URLSearchParams
		// as a form under the Content-Type it is given.
		{"region/curl preffered", []string{"Authorization", auth, "Content-Type", formCT}, "preffered_region=eu-central", "local", store.Metadata{}},
		{"region/curl fixed", []string{"Authorization", auth, "Content-Type", formCT}, "fixed_region=eu-central", "local", store.Metadata{}},
		{"region/ruby", []string{"Authorization", auth, "Content-Type", jsonCT}, "preffered_region=eu-central", "local", store.Metadata{}},
		{"region/node", []string{"Authorization", auth, "Content-Type", jsonCT}, "fixed_region=eu-central", "local", store.Metadata{}},
		{"region/dart", []string{"Authorization", auth, "Content-Type", jsonCT}, `{"preferred_region":"eu-central"}`, "local", store.Metadata{}},
		{"region/java", []string{"Authorization", auth, "Accept", jsonCT, "Content-Type", jsonCT}, `{"preferred_region":"singapore"}`, "192.0.2.10", store.Metadata{}},
		// Forwarding the client's IP.
		{"ip/curl", []string{"Authorization", auth, "X-TURN-CLIENT-IP", ip}, "", "local", store.Metadata{}},
		{"ip/ruby", []string{"Authorization", auth, "Content-Type", jsonCT, "X-TURN-CLIENT-IP", ip}, "", "local", store.Metadata{}},
		{"ip/node", []string{"Authorization", auth, "Content-Type", jsonCT, "X-TURN-CLIENT-IP", ip}, "", "local", store.Metadata{}},
		{"ip/dart", []string{"Authorization", auth, "Content-Type", jsonCT, "X-TURN-CLIENT-IP", ip}, "", "local", store.Metadata{}},
		{"ip/java", []string{"Authorization", auth, "Content-Type", jsonCT, "X-TURN-CLIENT-IP", ip}, "", "local", store.Metadata{}},
		// Clients and room.
		{"meta/curl", []string{"Authorization", auth, "Content-Type", formCT},
			"initiator_client=OPTIONAL_INITIATOR_CLIENT_VALUE&receiver_client=OPTIONAL_RECEIVER_CLIENT_VALUE&room=OPTIONAL_ROOM_NAME_VALUE",
			"local", withRoom("OPTIONAL_ROOM_NAME_VALUE")},
		{"meta/ruby", []string{"Authorization", auth},
			"initiator_client=OPTIONAL_INITIATOR_CLIENT_VALUE&receiver_client=OPTIONAL_RECEIVER_CLIENT_VALUE&room=OPTIONAL_TEAM_NAME_VALUE",
			"local", withRoom("OPTIONAL_TEAM_NAME_VALUE")},
		{"meta/node", []string{"Authorization", auth, "Content-Type", formCT},
			"initiator_client=OPTIONAL_INITIATOR_CLIENT_VALUE&receiver_client=OPTIONAL_RECEIVER_CLIENT_VALUE&room=OPTIONAL_TEAM_NAME_VALUE",
			"local", withRoom("OPTIONAL_TEAM_NAME_VALUE")},
		{"meta/dart", []string{"Authorization", auth, "Content-Type", jsonCT},
			`{"initiator_client":"OPTIONAL_INITIATOR_CLIENT_VALUE","receiver_client":"OPTIONAL_RECEIVER_CLIENT_VALUE","room":"OPTIONAL_ROOM_NAME_VALUE"}`,
			"local", withRoom("OPTIONAL_ROOM_NAME_VALUE")},
		{"meta/java", []string{"Authorization", auth, "Accept", jsonCT, "Content-Type", jsonCT},
			`{"initiator_client":"OPTIONAL_INITIATOR_CLIENT_VALUE","receiver_client":"OPTIONAL_RECEIVER_CLIENT_VALUE","room":"OPTIONAL_ROOM_VALUE"}`,
			"local", withRoom("OPTIONAL_ROOM_VALUE")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.clock.Now()
			r := e.do(t, http.MethodPost, "/api/v1/credentials/ice", hdr(c.header...), c.body)
			urls, user, pass := checkTurnixShape(t, r, false)
			u, err := relay.ParseUsername(user)
			if err != nil || u.AppID != e.app.App.ID {
				t.Fatalf("username %q: %v", user, err)
			}
			if got := u.Expires.Sub(before.Truncate(time.Second)); got < 30*time.Second || got > 31*time.Second {
				t.Errorf("credential lasts %s, want the default 30 s", got)
			}
			if c.relay != "local" {
				if !strings.Contains(urls[0], c.relay) {
					t.Errorf("URLs %v, want the relay at %s", urls, c.relay)
				}
				return
			}
			// The credential works on the relay it names, and the session
			// records the request's metadata.
			rc, err := e.allocate(t, urls[0], user, pass)
			if err != nil {
				t.Fatalf("Allocate with %s: %v", urls[0], err)
			}
			roundTrip(t, rc, peer, "hello from "+c.name)
			var sessionID string
			eventually(t, "the session in the store", func() bool {
				for _, s := range e.kit.Relay().Sessions() {
					if s.Username == user {
						sessionID = s.SessionID
					}
				}
				if sessionID == "" {
					return false
				}
				_, err := e.kit.Store().Session(context.Background(), sessionID)
				return err == nil
			})
			s, err := e.kit.Store().Session(context.Background(), sessionID)
			if err != nil {
				t.Fatal(err)
			}
			if s.Metadata != c.meta || s.AppID != e.app.App.ID {
				t.Errorf("session app %q metadata %+v, want %q %+v", s.AppID, s.Metadata, e.app.App.ID, c.meta)
			}
			_ = rc.Close()
		})
	}
	// The paths outside the base URL serve the same endpoint.
	r := e.do(t, http.MethodPost, "/credentials/ice", hdr("Authorization", auth), "")
	checkTurnixShape(t, r, false)
}

// TestTurnixParameters: ttl, the regions and X-TURN-CLIENT-IP do what the
// document says.
func TestTurnixParameters(t *testing.T) {
	e := newEnv(t, opt(inRegion("eu-central")), opt(withRelays(otherRelay("sin-1", "ap-singapore", "192.0.2.10"))))
	auth := hdr("Authorization", e.bearer(), "Content-Type", "application/json")
	expiry := func(t *testing.T, r response) time.Duration {
		_, user, _ := checkTurnixShape(t, r, false)
		u, err := relay.ParseUsername(user)
		if err != nil {
			t.Fatal(err)
		}
		return u.Expires.Sub(e.clock.Now().Truncate(time.Second))
	}
	for _, c := range []struct {
		body string
		want time.Duration
	}{
		{`{"ttl": 120}`, 120 * time.Second},
		{`{"ttl": "45"}`, 45 * time.Second},
		{`{"ttl": null}`, 30 * time.Second},
		{`ttl=3600`, time.Hour},
	} {
		if got := expiry(t, e.do(t, http.MethodPost, "/credentials/ice", auth, c.body)); got != c.want {
			t.Errorf("%s: credential lasts %s, want %s", c.body, got, c.want)
		}
	}
	t.Run("fixed region without a relay", func(t *testing.T) {
		r := e.do(t, http.MethodPost, "/credentials/ice", auth, `{"fixed_region": "us_east"}`)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.errorText(t), "us-east") {
			t.Fatalf("status %d %s, want 503 naming the region", r.status, r.body)
		}
	})
	t.Run("preferred region without a relay falls back", func(t *testing.T) {
		urls, _, _ := checkTurnixShape(t, e.do(t, http.MethodPost, "/credentials/ice", auth, `{"preferred_region": "us_east"}`), false)
		if !strings.Contains(urls[0], "127.0.0.1") {
			t.Fatalf("URLs %v, want the nearest relay: the local one", urls)
		}
	})
	t.Run("fixed region elsewhere", func(t *testing.T) {
		urls, _, _ := checkTurnixShape(t, e.do(t, http.MethodPost, "/credentials/ice", auth, `fixed_region=singapore`), false)
		if !strings.Contains(urls[0], "192.0.2.10") {
			t.Fatalf("URLs %v, want the Singapore relay", urls)
		}
	})
	t.Run("global means any", func(t *testing.T) {
		checkTurnixShape(t, e.do(t, http.MethodPost, "/credentials/ice", auth, `{"fixed_region": "global"}`), false)
	})
	t.Run("client IP header", func(t *testing.T) {
		for _, ip := range []string{"12.34.56.78", "2001:db8::1", "::ffff:198.51.100.9"} {
			r := e.do(t, http.MethodPost, "/credentials/ice", hdr("Authorization", e.bearer(), "X-TURN-CLIENT-IP", ip), "")
			checkTurnixShape(t, r, false)
		}
	})
}

// TestTurnixTLS: a relay with a TLS listener adds turns: to the TURN
// entry, and a credential allocates over TLS with it.
func TestTurnixTLS(t *testing.T) {
	e := newEnv(t, withTLS)
	peer := turntest.Echo(t, echoIP)
	urls, user, pass := checkTurnixShape(t, e.do(t, http.MethodPost, "/credentials/ice", hdr("Authorization", e.bearer()), ""), true)
	var turns string
	for _, u := range urls {
		if strings.HasPrefix(u, "turns:") {
			turns = u
		}
	}
	rc, err := e.allocate(t, turns, user, pass)
	if err != nil {
		t.Fatalf("Allocate over TLS (%s): %v", turns, err)
	}
	roundTrip(t, rc, peer, "turnix over tls")
}

// TestTurnixRefusals: every refusal has the status turnkit gives its
// kind and a Turnix error body, and leaves nothing behind.
func TestTurnixRefusals(t *testing.T) {
	e := newEnv(t, opt(inRegion("eu-central")))
	auth := e.bearer()
	long := strings.Repeat("r", store.MaxMetadataLen+1)
	cases := []refusal{
		{"no Authorization", "POST", "", nil, "", 401, "Bearer"},
		{"empty bearer", "POST", "", []string{"Authorization", "Bearer "}, "", 401, "Bearer"},
		{"basic scheme", "POST", "", []string{"Authorization", "Basic dXNlcjpwdw=="}, "", 401, "Bearer"},
		{"two Authorization headers", "POST", "", []string{"Authorization", auth, "Authorization", auth}, "", 401, "Bearer"},
		{"unknown token", "POST", "", []string{"Authorization", "Bearer tk_nosuchkeynosuchkeynosuchkey12"}, "", 401, "invalid API key"},
		{"GET", "GET", "", []string{"Authorization", auth}, "", 405, "POST"},
		{"text body", "POST", "", []string{"Authorization", auth, "Content-Type", "text/plain"}, "room=a", 415, "text/plain"},
		{"multipart body", "POST", "", []string{"Authorization", auth, "Content-Type", "multipart/form-data; boundary=x"}, "--x--", 415, "multipart"},
		{"malformed Content-Type", "POST", "", []string{"Authorization", auth, "Content-Type", "application/json; ="}, "", 400, "Content-Type"},
		{"oversized body", "POST", "", []string{"Authorization", auth, "Content-Type", "application/json"}, `{"room": "` + strings.Repeat("a", 5000) + `"}`, 413, "4096"},
		{"oversized query", "POST", "?x=" + strings.Repeat("a", 5000), []string{"Authorization", auth}, "", 413, "query"},
		{"query parameters", "POST", "?ttl=60", []string{"Authorization", auth}, "", 400, "ttl"},
		{"unknown JSON member", "POST", "", []string{"Authorization", auth}, `{"region": "eu-central"}`, 400, "region"},
		{"unknown form field", "POST", "", []string{"Authorization", auth}, `region=eu-central`, 400, "region"},
		{"repeated form field", "POST", "", []string{"Authorization", auth}, `room=a&room=b`, 400, "room"},
		{"repeated JSON member", "POST", "", []string{"Authorization", auth}, `{"room": "a", "room": "b"}`, 400, "room"},
		{"both spellings", "POST", "", []string{"Authorization", auth}, `preferred_region=eu-central&preffered_region=eu-central`, 400, "preffered_region"},
		{"fixed and preferred", "POST", "", []string{"Authorization", auth}, `{"fixed_region": "eu-central", "preferred_region": "eu-central"}`, 400, "one of them"},
		{"unknown region", "POST", "", []string{"Authorization", auth}, `fixed_region=atlantis`, 400, "atlantis"},
		{"unknown preferred region", "POST", "", []string{"Authorization", auth}, `{"preferred_region": "eu_central "}`, 400, "not a known region"},
		{"ttl zero", "POST", "", []string{"Authorization", auth}, `{"ttl": 0}`, 400, "ttl"},
		{"ttl negative", "POST", "", []string{"Authorization", auth}, `ttl=-5`, 400, "ttl"},
		{"ttl fraction", "POST", "", []string{"Authorization", auth}, `{"ttl": 1.5}`, 400, "ttl"},
		{"ttl exponent", "POST", "", []string{"Authorization", auth}, `{"ttl": 3e1}`, 400, "ttl"},
		{"ttl text", "POST", "", []string{"Authorization", auth}, `ttl=soon`, 400, "ttl"},
		{"ttl huge", "POST", "", []string{"Authorization", auth}, `ttl=99999999999999999999`, 400, "ttl"},
		{"ttl over the maximum", "POST", "", []string{"Authorization", auth}, `ttl=` + strconv.Itoa(25*3600), 400, "at most"},
		{"room not a string", "POST", "", []string{"Authorization", auth}, `{"room": 42}`, 400, "room"},
		{"room with a control character", "POST", "", []string{"Authorization", auth}, "room=a%00b", 400, "control"},
		{"room too long", "POST", "", []string{"Authorization", auth}, `{"room": "` + long + `"}`, 400, "room"},
		{"JSON array", "POST", "", []string{"Authorization", auth, "Content-Type", "application/json"}, `["room"]`, 400, "unknown form field"},
		{"trailing JSON", "POST", "", []string{"Authorization", auth}, `{"room": "a"} {}`, 400, "after the JSON object"},
		{"bad form escape", "POST", "", []string{"Authorization", auth}, `room=%zz`, 400, "form"},
		{"bad client IP", "POST", "", []string{"Authorization", auth, "X-TURN-CLIENT-IP", "12.34.56"}, "", 400, "X-TURN-CLIENT-IP"},
		{"client IP list", "POST", "", []string{"Authorization", auth, "X-TURN-CLIENT-IP", "1.2.3.4, 5.6.7.8"}, "", 400, "X-TURN-CLIENT-IP"},
		{"client IP with zone", "POST", "", []string{"Authorization", auth, "X-TURN-CLIENT-IP", "fe80::1%eth0"}, "", 400, "X-TURN-CLIENT-IP"},
		{"two client IP headers", "POST", "", []string{"Authorization", auth, "X-TURN-CLIENT-IP", "1.2.3.4", "X-TURN-CLIENT-IP", "5.6.7.8"}, "", 400, "2 times"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, "/credentials/ice"+c.target, hdr(c.header...), c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if msg := r.errorText(t); !strings.Contains(msg, c.has) || strings.Contains(msg, e.app.Key) {
				t.Errorf("error %q, want it to name %q and never the key", msg, c.has)
			}
			if c.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q, want POST", r.header.Get("Allow"))
			}
		})
	}
	if n, err := e.kit.Store().CountActiveSessions(context.Background(), e.app.App.ID); err != nil || n != 0 {
		t.Errorf("active sessions after refusals: %d, %v", n, err)
	}
	t.Run("paused app", func(t *testing.T) {
		if err := e.kit.PauseApp(context.Background(), e.app.App.ID); err != nil {
			t.Fatal(err)
		}
		r := e.do(t, "POST", "/credentials/ice", hdr("Authorization", auth), "")
		if r.status != http.StatusForbidden || !strings.Contains(r.errorText(t), "paused") {
			t.Fatalf("status %d %s, want 403 paused", r.status, r.body)
		}
	})
}
