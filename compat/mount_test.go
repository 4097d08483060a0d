package compat_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/compat"
)

// TestHandlersMountedAlone: each vendor's handler serves on a mux of the
// embedder's own, at a path of its choosing.
func TestHandlersMountedAlone(t *testing.T) {
	e := newEnv(t)
	c := e.create(t, `{"label": "alone"}`)
	mux := http.NewServeMux()
	mux.Handle("/turn/ice", e.kit.TurnixHandler())
	mux.Handle("/vendor/metered/", e.kit.MeteredHandler())
	mux.Handle("/baton", e.kit.BatonHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", e.bearer())
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post("/turn/ice", "room=r"); res.StatusCode != http.StatusOK {
		t.Errorf("Turnix at /turn/ice: status %d", res.StatusCode)
	}
	if res := post("/baton", `{"ttl": 60}`); res.StatusCode != http.StatusOK {
		t.Errorf("Baton at /baton: status %d", res.StatusCode)
	}
	res, err := srv.Client().Get(srv.URL + "/vendor/metered/api/v1/turn/credentials?apiKey=" + url.QueryEscape(c.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("Metered under /vendor/metered/: status %d", res.StatusCode)
	}
	res, err = srv.Client().Get(srv.URL + "/vendor/metered/nothing")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("Metered, unknown path: status %d, want 404", res.StatusCode)
	}
}

// TestConfigRequired: a handler without the backends and kinds it needs
// is refused at construction, not at its first request.
func TestConfigRequired(t *testing.T) {
	if _, err := compat.NewTurnix(compat.Config{}); err == nil || !strings.Contains(err.Error(), "Issuer") {
		t.Errorf("NewTurnix(zero Config) = %v, want an error naming Issuer", err)
	}
	if _, err := compat.NewBaton(compat.Config{}); err == nil || !strings.Contains(err.Error(), "Kinds") {
		t.Errorf("NewBaton(zero Config) = %v, want an error naming Kinds", err)
	}
	if _, err := compat.NewMetered(compat.Config{}); err == nil || !strings.Contains(err.Error(), "Static") {
		t.Errorf("NewMetered(zero Config) = %v, want an error naming Static", err)
	}
}
