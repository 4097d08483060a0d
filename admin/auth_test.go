package admin_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
)

// TestToken: the API answers only requests that carry the admin token as
// a Bearer header; a token anywhere else is no token, and one in the query
// string is refused outright.
func TestToken(t *testing.T) {
	e := newEnv(t, noRelay)
	cases := []struct {
		name   string
		req    request
		status int
	}{
		{"right token", request{}, http.StatusOK},
		{"scheme in lower case", request{token: "-", header: http.Header{"Authorization": {"bearer " + adminToken}}}, http.StatusOK},
		{"no header", request{token: "-"}, http.StatusUnauthorized},
		{"wrong token", request{token: adminToken + "x"}, http.StatusUnauthorized},
		{"a prefix of the token", request{token: adminToken[:len(adminToken)-1]}, http.StatusUnauthorized},
		{"empty bearer", request{token: "-", header: http.Header{"Authorization": {"Bearer "}}}, http.StatusUnauthorized},
		{"basic scheme", request{token: "-", header: http.Header{"Authorization": {"Basic " + adminToken}}}, http.StatusUnauthorized},
		{"token alone", request{token: "-", header: http.Header{"Authorization": {adminToken}}}, http.StatusUnauthorized},
		{"two headers", request{token: "-", header: http.Header{"Authorization": {"Bearer " + adminToken, "Bearer " + adminToken}}}, http.StatusUnauthorized},
		{"in a cookie", request{token: "-", header: http.Header{"Cookie": {"token=" + adminToken}}}, http.StatusUnauthorized},
		{"in another header", request{token: "-", header: http.Header{"X-Admin-Token": {adminToken}}}, http.StatusUnauthorized},
		{"in the query", request{token: "-", path: "/admin/api/apps?token=" + adminToken}, http.StatusBadRequest},
		{"in the query with the header", request{path: "/admin/api/apps?access_token=" + adminToken}, http.StatusBadRequest},
		{"in the page's query", request{token: "-", path: "/admin/?token=" + adminToken}, http.StatusBadRequest},
		{"in the query, upper case", request{token: "-", path: "/admin/api/apps?TOKEN=x"}, http.StatusBadRequest},
		{"in the body", request{token: "-", method: "POST", body: `{"token":"` + adminToken + `"}`}, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.req.method == "" {
				c.req.method = "GET"
			}
			if c.req.path == "" {
				c.req.path = "/admin/api/apps"
			}
			a := e.send(c.req)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if c.status == http.StatusUnauthorized {
				if got := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
				}
			}
			if c.status == http.StatusBadRequest && !strings.Contains(a.detail(), "Authorization: Bearer") {
				t.Errorf("detail %q does not say where the token goes", a.detail())
			}
			noneOf(t, "the answer", a.body, adminToken)
		})
	}
	// An unknown path asks for the token before it says there is none.
	if a := e.send(request{method: "GET", path: "/admin/api/nothing", token: "-"}); a.status != http.StatusUnauthorized {
		t.Errorf("unknown path without a token: %d, want 401", a.status)
	}
}

// TestWrongTokensLimited: a source that sends many wrong tokens gets 429
// with Retry-After, even with the right token, until its attempts refill;
// right tokens do not use the budget up.
func TestWrongTokensLimited(t *testing.T) {
	e := newEnv(t, noRelay, func(c *turnkit.Config) { c.FailureLimits = turnkit.FailureLimits{Rate: 1, Burst: 3} })
	for range 10 {
		e.get("/admin/api/apps").must(t, http.StatusOK)
	}
	for i := range 3 {
		if a := e.send(request{method: "GET", path: "/admin/api/apps", token: "wrong"}); a.status != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: status %d, want 401", i+1, a.status)
		}
	}
	a := e.get("/admin/api/apps")
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Fatalf("after the burst of wrong tokens: status %d, Retry-After %q; want 429 with it", a.status, a.header.Get("Retry-After"))
	}
	e.clock.Advance(1500 * time.Millisecond) // one attempt back
	e.get("/admin/api/apps").must(t, http.StatusOK)
	e.get("/admin/api/apps").must(t, http.StatusOK)
}

// TestOffWithoutToken: a Kit without an admin token serves nothing at
// /admin/: the page, its files and the API all answer 503.
func TestOffWithoutToken(t *testing.T) {
	e := newEnv(t, noRelay, func(c *turnkit.Config) { c.AdminToken = "" })
	for _, p := range []string{"/admin/", "/admin/static/app.js", "/admin/api/apps", "/admin/api/nothing", "/elsewhere"} {
		for _, token := range []string{"", "-"} {
			a := e.send(request{method: "GET", path: p, token: token})
			if a.status != http.StatusServiceUnavailable || !strings.Contains(a.detail(), "AdminToken") {
				t.Errorf("GET %s: %d %q, want 503 naming AdminToken", p, a.status, a.detail())
			}
		}
	}
}

// TestTokenConfig: Open refuses a weak admin token and a token that
// disagrees with the hash; the hash alone is enough.
func TestTokenConfig(t *testing.T) {
	open := func(c turnkit.Config) (*turnkit.Kit, error) {
		c.DBPath, c.NoRelay = filepath.Join(t.TempDir(), "turnkit.db"), true
		return turnkit.Open(context.Background(), c)
	}
	for name, c := range map[string]turnkit.Config{
		"short":    {AdminToken: "short"},
		"spaces":   {AdminToken: "a token with spaces in it"},
		"control":  {AdminToken: "tka_0123456789abcdef\n"},
		"too long": {AdminToken: strings.Repeat("a", 257)},
		"disagree": {AdminToken: adminToken, AdminTokenHash: sha256.Sum256([]byte("another token, 16+ bytes"))},
	} {
		kit, err := open(c)
		if err == nil {
			kit.Close()
			t.Errorf("%s: Open accepted the admin token", name)
		} else if strings.Contains(err.Error(), c.AdminToken) && c.AdminToken != "" {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
	kit, err := open(turnkit.Config{AdminTokenHash: sha256.Sum256([]byte(adminToken))})
	if err != nil {
		t.Fatal(err)
	}
	defer kit.Close()
	srv := newServer(t, kit)
	for token, want := range map[string]int{adminToken: http.StatusOK, "tka_another-token-0123456789": http.StatusUnauthorized} {
		req, _ := http.NewRequest("GET", srv+"/admin/api/apps", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("with the hash configured, token %q: %d, want %d", token[:6], res.StatusCode, want)
		}
	}
}
