package admin_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/turnkit/turnkit"
)

// keyOut is the JSON of an API key.
type keyOut struct {
	ID        string  `json:"id"`
	CreatedAt string  `json:"created_at"`
	RevokedAt *string `json:"revoked_at"`
	Key       string  `json:"key"`
}

// TestKeys: keys are listed by ID and dates, never the key or its hash;
// a new key is shown once and works; a revoked one stops authenticating;
// another app's key cannot be revoked through this app.
func TestKeys(t *testing.T) {
	e := newEnv(t, noRelay)
	_, first := e.createApp("a1", "")
	_, other := e.createApp("a2", "")
	var added keyOut
	e.post("/admin/api/apps/a1/keys", "").must(t, http.StatusCreated).decode(t, &added)
	if added.Key == "" || added.ID == "" || added.RevokedAt != nil {
		t.Fatalf("added key %+v", added)
	}
	e.post("/admin/api/apps/a1/keys", "{}").must(t, http.StatusCreated)
	if c, err := e.kit.Issuer().Authenticate(context.Background(), added.Key); err != nil || c.KeyID != added.ID {
		t.Fatalf("the added key authenticates as %+v, %v", c, err)
	}

	keys, pages := allPages[keyOut](t, e, "/admin/api/apps/a1/keys?limit=1", "keys")
	if len(keys) != 3 || pages != 3 {
		t.Fatalf("keys by pages of 1: %d keys in %d pages, want 3 in 3", len(keys), pages)
	}
	stored, err := e.kit.Keys(context.Background(), "a1")
	if err != nil {
		t.Fatal(err)
	}
	var ids, storedIDs []string
	for i, k := range keys {
		if k.Key != "" {
			t.Errorf("key %s is listed with its key", k.ID)
		}
		ids, storedIDs = append(ids, k.ID), append(storedIDs, stored[i].ID)
	}
	if !slices.Equal(ids, storedIDs) {
		t.Fatalf("listed keys %v, want %v oldest first", ids, storedIDs)
	}
	list := e.get("/admin/api/apps/a1/keys").must(t, http.StatusOK)
	hashes := make([]string, len(stored))
	for i, k := range stored {
		hashes[i] = hex.EncodeToString(k.Hash[:])
	}
	noneOf(t, "the key list", list.body, append(hashes, first, added.Key, other)...)

	// Revoke: the answer has the time, the key stops working, again is no
	// change.
	var revoked keyOut
	e.send(request{method: "DELETE", path: "/admin/api/apps/a1/keys/" + added.ID}).must(t, http.StatusOK).decode(t, &revoked)
	if revoked.ID != added.ID || revoked.RevokedAt == nil || revoked.Key != "" {
		t.Fatalf("revoked key %+v", revoked)
	}
	if _, err := e.kit.Issuer().Authenticate(context.Background(), added.Key); !errors.Is(err, turnkit.ErrInvalidKey) {
		t.Fatalf("the revoked key authenticates: %v", err)
	}
	var again keyOut
	e.send(request{method: "DELETE", path: "/admin/api/apps/a1/keys/" + added.ID}).must(t, http.StatusOK).decode(t, &again)
	if again.RevokedAt == nil || *again.RevokedAt != *revoked.RevokedAt {
		t.Fatalf("revoked again: %+v, want the first revocation time %s", again, *revoked.RevokedAt)
	}

	// Another app's key, an unknown key, an unknown app: 404, nothing
	// revoked.
	otherKeys, _ := e.kit.Keys(context.Background(), "a2")
	for name, path := range map[string]string{
		"another app's key": "/admin/api/apps/a1/keys/" + otherKeys[0].ID,
		"unknown key":       "/admin/api/apps/a1/keys/keynothere",
		"unknown app":       "/admin/api/apps/zz/keys/" + added.ID,
	} {
		if a := e.send(request{method: "DELETE", path: path}); a.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, a.status)
		}
	}
	if _, err := e.kit.Issuer().Authenticate(context.Background(), other); err != nil {
		t.Fatalf("the other app's key no longer authenticates: %v", err)
	}

	for name, r := range map[string]request{
		"body on add":          {method: "POST", path: "/admin/api/apps/a1/keys", body: `{"key": "tk_mine-0123456789abcdef"}`},
		"query on add":         {method: "POST", path: "/admin/api/apps/a1/keys?count=3"},
		"body on revoke":       {method: "DELETE", path: "/admin/api/apps/a1/keys/" + ids[0], body: `{"now": true}`},
		"cursor of no key":     {method: "GET", path: "/admin/api/apps/a1/keys?after=a2V5cwBub3BlCg"},
		"limit on an app list": {method: "GET", path: "/admin/api/apps/a1/keys?limit=0"},
	} {
		if a := e.send(r); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, a.status, a.body)
		}
	}
	if a := e.send(request{method: "PUT", path: "/admin/api/apps/a1/keys"}); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT keys: %d Allow %q, want 405 Allow GET, POST", a.status, a.header.Get("Allow"))
	}
	if a := e.get("/admin/api/apps/zz/keys"); a.status != http.StatusNotFound {
		t.Errorf("keys of an unknown app: %d, want 404", a.status)
	}
	if keys, _ := e.kit.Keys(context.Background(), "a1"); len(keys) != 3 {
		t.Fatalf("refused requests changed the keys: %d, want 3", len(keys))
	}
}
