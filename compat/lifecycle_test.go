package compat_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/turntest"
)

// TestMeteredLifecycle follows a persistent credential from creation to
// deletion through Metered's endpoints: its apiKey fetches ICE servers
// whose credential allocates on the relay (over UDP, TCP and TLS) and
// relays to a peer; the deletion ends the live sessions, and afterwards
// both the apiKey and the credential are refused.
func TestMeteredLifecycle(t *testing.T) {
	e := newEnv(t, withTLS)
	peer := turntest.Echo(t, echoIP)
	ctx := context.Background()
	c := e.create(t, `{"label": "lobby"}`)
	urls := checkMeteredShape(t, e.iceServers(t, c.APIKey, ""), c.Username, c.Password, true)
	for _, u := range urls {
		rc, err := e.allocate(t, u, c.Username, c.Password)
		if err != nil {
			t.Fatalf("Allocate with %s: %v", u, err)
		}
		roundTrip(t, rc, peer, "metered over "+u)
	}
	eventually(t, "three sessions of the app", func() bool {
		n, err := e.kit.Store().CountActiveSessions(ctx, e.app.App.ID)
		return err == nil && n == len(urls)
	})
	for _, s := range e.kit.Relay().Sessions() {
		if s.AppID != e.app.App.ID || s.Username != c.Username {
			t.Errorf("live session %+v, want the app's and the static credential's", s.SessionEvent)
		}
	}

	r := e.do(t, http.MethodDelete, "/api/v1/turn/credential?secretKey="+url.QueryEscape(e.app.Key),
		hdr("Content-Type", "application/json"), `{"username": "`+c.Username+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("delete: status %d %s", r.status, r.body)
	}
	if n := len(e.kit.Relay().Sessions()); n != 0 {
		t.Errorf("%d live sessions of the deleted credential on the relay, want none", n)
	}
	eventually(t, "the sessions to close in the store", func() bool {
		n, err := e.kit.Store().CountActiveSessions(ctx, e.app.App.ID)
		return err == nil && n == 0
	})
	if r := e.iceServers(t, c.APIKey, ""); r.status != http.StatusUnauthorized || r.errorText(t) != "Invalid API Key" {
		t.Errorf("apiKey of the deleted credential: status %d %s, want 401 Invalid API Key", r.status, r.body)
	}
	for _, u := range urls {
		if _, err := e.allocate(t, u, c.Username, c.Password); err == nil {
			t.Errorf("the deleted credential allocated over %s", u)
		}
	}
	if !strings.HasPrefix(urls[0], "turn:") {
		t.Fatalf("URLs %v", urls)
	}
}
