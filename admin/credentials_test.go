package admin_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
)

// credentialOut is the JSON of a persistent credential.
type credentialOut struct {
	Username   string  `json:"username"`
	Label      string  `json:"label"`
	CreatedAt  string  `json:"created_at"`
	ExpiresAt  *string `json:"expires_at"`
	APIKey     string  `json:"apiKey"`
	ICEServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"iceServers"`
}

// TestStaticCredentials: a persistent credential made through the API
// allocates on the relay with pion's client, is listed without its
// password or front-end key, shows its ICE servers, and once deleted
// allocates no more.
func TestStaticCredentials(t *testing.T) {
	e := newEnv(t, withRelay)
	e.createApp("a1", "")
	e.createApp("a2", "")
	var c credentialOut
	e.post("/admin/api/apps/a1/credentials", `{"label": "lobby <1>"}`).must(t, http.StatusCreated).decode(t, &c)
	if c.Username == "" || c.Label != "lobby <1>" || c.ExpiresAt != nil || !strings.HasPrefix(c.APIKey, "tkc_") || len(c.ICEServers) != 2 {
		t.Fatalf("created credential %+v", c)
	}
	turnURLs, user, pass := c.ICEServers[1].URLs, c.ICEServers[1].Username, c.ICEServers[1].Credential
	if user != c.Username || pass == "" || c.ICEServers[0].Username != "" || !strings.HasPrefix(c.ICEServers[0].URLs[0], "stun:") {
		t.Fatalf("ICE servers %+v", c.ICEServers)
	}
	relayAddr := e.kit.Relay().UDPAddrs()[0].String()
	if !strings.Contains(strings.Join(turnURLs, " "), "turn:"+relayAddr+"?transport=udp") {
		t.Fatalf("TURN URLs %q do not name the relay %s", turnURLs, relayAddr)
	}
	allocates := func() bool {
		client := turntest.Dial(t, "udp", relayAddr, nil, user, pass, "turnkit")
		_, err := turntest.Allocate(t, client)
		return err == nil
	}
	if !allocates() {
		t.Fatal("the new credential does not allocate")
	}

	e.clock.Advance(time.Second) // listed oldest first
	var exp credentialOut
	expires := e.clock.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	e.post("/admin/api/apps/a1/credentials", `{"label": "short", "expires_at": "`+expires.Format(time.RFC3339)+`"}`).must(t, http.StatusCreated).decode(t, &exp)
	// The Kit keeps lifetimes in whole seconds: the expiry is the one
	// asked for, or up to a second later.
	if exp.ExpiresAt == nil {
		t.Fatal("no expiry")
	}
	if got, err := time.Parse(time.RFC3339Nano, *exp.ExpiresAt); err != nil || got.Before(expires) || !got.Before(expires.Add(time.Second)) {
		t.Fatalf("expiry %s, want %s or up to a second later", *exp.ExpiresAt, expires.Format(time.RFC3339))
	}
	e.clock.Advance(time.Second)
	e.post("/admin/api/apps/a1/credentials", `{}`).must(t, http.StatusCreated)

	list, pages := allPages[credentialOut](t, e, "/admin/api/apps/a1/credentials?limit=2", "credentials")
	if len(list) != 3 || pages != 2 || list[0].Username != c.Username {
		t.Fatalf("listed by pages of 2: %d in %d pages, first %+v", len(list), pages, list)
	}
	body := e.get("/admin/api/apps/a1/credentials").must(t, http.StatusOK).body
	noneOf(t, "the credential list", body, pass, c.APIKey, exp.APIKey)
	if l := getPage[credentialOut](t, e, "/admin/api/apps/a2/credentials", "credentials"); len(l.Items) != 0 {
		t.Fatalf("another app lists %+v", l.Items)
	}

	var shown credentialOut
	e.get("/admin/api/apps/a1/credentials/"+c.Username).must(t, http.StatusOK).decode(t, &shown)
	if shown.APIKey != "" || len(shown.ICEServers) != 2 || shown.ICEServers[1].Credential != pass {
		t.Fatalf("shown credential %+v", shown)
	}
	if a := e.get("/admin/api/apps/a2/credentials/" + c.Username); a.status != http.StatusNotFound {
		t.Fatalf("another app's credential: %d, want 404", a.status)
	}
	if a := e.send(request{method: "DELETE", path: "/admin/api/apps/a2/credentials/" + c.Username}); a.status != http.StatusNotFound {
		t.Fatalf("deleting through another app: %d, want 404", a.status)
	}
	if !allocates() {
		t.Fatal("a refused delete through another app deleted the credential")
	}

	for name, body := range map[string]string{
		"label too long":   `{"label": "` + strings.Repeat("l", 65) + `"}`,
		"control in label": `{"label": "a\u0000b"}`,
		"label a number":   `{"label": 5}`,
		"past expiry":      `{"expires_at": "2001-01-01T00:00:00Z"}`,
		"expiry malformed": `{"expires_at": "tomorrow"}`,
		"expiry too far":   `{"expires_at": "2199-01-01T00:00:00Z"}`,
		"expiry a number":  `{"expires_at": 1893456000}`,
		"unknown field":    `{"label": "x", "password": "mine"}`,
		"username chosen":  `{"username": "mine"}`,
	} {
		if a := e.post("/admin/api/apps/a1/credentials", body); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, a.status, a.body)
		}
	}
	if a := e.post("/admin/api/apps/zz/credentials", `{}`); a.status != http.StatusNotFound {
		t.Errorf("unknown app: %d, want 404", a.status)
	}
	// A cursor is the offset of the next credential, inside the list's
	// kind: one that is not an offset of this list is refused, one past
	// the end is an empty last page.
	offset := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte("credentials\x00" + s)) }
	for name, after := range map[string]string{
		"offset not a number":    offset("x"),
		"negative offset":        offset("-1"),
		"cursor of another list": cursorOf(t, e, "/admin/api/apps?limit=1", "apps"),
	} {
		if a := e.get("/admin/api/apps/a1/credentials?after=" + after); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, a.status, a.body)
		}
	}
	if p := getPage[credentialOut](t, e, "/admin/api/apps/a1/credentials?after="+offset("99"), "credentials"); len(p.Items) != 0 || p.Next != nil {
		t.Errorf("past the end: %+v, next %v; want an empty last page", p.Items, p.Next)
	}

	e.send(request{method: "DELETE", path: "/admin/api/apps/a1/credentials/" + c.Username}).must(t, http.StatusOK)
	if allocates() {
		t.Fatal("the deleted credential still allocates")
	}
	if a := e.send(request{method: "DELETE", path: "/admin/api/apps/a1/credentials/" + c.Username}); a.status != http.StatusNotFound {
		t.Fatalf("deleting again: %d, want 404", a.status)
	}
	if _, total, err := e.kit.StaticCredentials(context.Background(), "a1", turnkit.StaticCredentialQuery{All: true}); err != nil || total != 2 {
		t.Fatalf("after the delete the app has %d credentials (%v), want 2", total, err)
	}
}
