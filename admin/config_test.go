package admin_test

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/admin"
	"github.com/turnkit/turnkit/store"
)

// notFoundErrors answers the store's not-found with 404 and anything else
// with 500, as a program's own Errors would.
type notFoundErrors struct{}

func (notFoundErrors) Status(err error) int {
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

func (notFoundErrors) Detail(err error) string { return err.Error() }

// keysBackend names admin.Keys for embedding: a field named Keys would
// hide the method Keys.
type keysBackend = admin.Keys

// unreachedConfig is a complete Config whose backends are nil interfaces
// inside structs: any call to one panics, and net/http then drops the
// connection, failing the request.
func unreachedConfig() admin.Config {
	return admin.Config{
		TokenHash: sha256.Sum256([]byte(adminToken)),
		Apps:      struct{ admin.Apps }{}, Keys: struct{ keysBackend }{}, Billing: struct{ admin.Billing }{},
		Sessions: struct{ admin.Sessions }{}, Fleet: struct{ admin.Fleet }{},
		Errors: notFoundErrors{},
		Kinds: admin.Kinds{
			BadRequest: errors.New("bad request"), MethodNotAllowed: errors.New("method not allowed"),
			TooLarge: errors.New("too large"), UnsupportedMedia: errors.New("unsupported media"),
		},
	}
}

// TestNewRefuses: New names every required field a Config lacks, and
// refuses a prefix that is not a path ending in '/'.
func TestNewRefuses(t *testing.T) {
	_, err := admin.New(admin.Config{})
	want := "admin: config lacks Apps, Billing, Errors, Fleet, Keys, Kinds.BadRequest, Kinds.MethodNotAllowed, Kinds.TooLarge, Kinds.UnsupportedMedia, Sessions"
	if err == nil || err.Error() != want {
		t.Fatalf("New(Config{}) = %v, want %q", err, want)
	}
	c := unreachedConfig()
	c.Kinds.TooLarge, c.Fleet = nil, nil
	if _, err := admin.New(c); err == nil || !strings.HasSuffix(err.Error(), "lacks Fleet, Kinds.TooLarge") {
		t.Fatalf("New without Fleet and Kinds.TooLarge = %v", err)
	}
	for _, prefix := range []string{"admin/", "/admin", "/{app}/", "/admin/{x}/"} {
		c := unreachedConfig()
		c.Prefix = prefix
		if _, err := admin.New(c); err == nil || !strings.Contains(err.Error(), prefix) {
			t.Errorf("New with prefix %q = %v, want an error naming it", prefix, err)
		}
	}
	if _, err := admin.New(unreachedConfig()); err != nil {
		t.Fatalf("New with every field set: %v", err)
	}
}

// TestNoCredentialsBackend: without Config.Credentials every path of
// persistent credentials answers 404, before any backend is asked.
func TestNoCredentialsBackend(t *testing.T) {
	h, err := admin.New(unreachedConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/api/apps/a1/credentials"},
		{"POST", "/admin/api/apps/a1/credentials"},
		{"GET", "/admin/api/apps/a1/credentials/u1"},
		{"DELETE", "/admin/api/apps/a1/credentials/u1"},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		a := answer{status: res.StatusCode, body: body}
		if a.status != http.StatusNotFound || !strings.Contains(a.detail(), "persistent credentials are not served here") {
			t.Errorf("%s %s: %d %q, want 404 saying persistent credentials are not served", r.method, r.path, a.status, a.detail())
		}
	}
}
