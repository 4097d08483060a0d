package turnkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
)

// TestRevokeInvalidatesCache: a key that was used (and so cached) gets 401
// right after it is revoked on the same Kit; a second key of the app keeps
// working.
func TestRevokeInvalidatesCache(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	keyID2, key2 := mustAddKey(t, tk.Kit, tk.app.App.ID)
	for _, k := range []string{tk.app.Key, key2} {
		if status, res := tk.post(fmt.Sprintf(`{"key": %q}`, k)); status != 200 {
			t.Fatalf("warm-up: status %d %q", status, res.Detail)
		}
	}
	if err := tk.RevokeKey(ctx, tk.app.KeyID); err != nil {
		t.Fatal(err)
	}
	if status, _ := tk.post(fmt.Sprintf(`{"key": %q}`, tk.app.Key)); status != http.StatusUnauthorized {
		t.Fatalf("revoked key: status %d, want 401", status)
	}
	if status, _ := tk.post(fmt.Sprintf(`{"key": %q}`, key2)); status != http.StatusOK {
		t.Fatalf("other key after revoking the first: status %d, want 200", status)
	}
	keys, err := tk.Keys(ctx, tk.app.App.ID)
	if err != nil || len(keys) != 2 || !keys[0].Revoked() || keys[1].Revoked() || keys[1].ID != keyID2 {
		t.Fatalf("Keys = %+v, %v; want the first revoked, the second valid", keys, err)
	}
	if err := tk.RevokeKey(ctx, "key-that-does-not-exist"); !strings.Contains(fmt.Sprint(err), "not found") {
		t.Fatalf("revoking an unknown key: %v, want not found", err)
	}
}

// TestCacheTTLAcrossKits: a second Kit on the same store trusts its cached
// key for KeyCacheTTL, then sees the revocation.
func TestCacheTTLAcrossKits(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	other := openKit(t, turnkit.Config{
		DBPath:      filepath.Join(tk.dir, "turnkit.db"),
		NoRelay:     true,
		Relays:      []turnkit.RelayEndpoint{{ID: "r1", Region: "default", URLs: tk.Relay().URLs()}},
		Now:         tk.clock.Now,
		KeyCacheTTL: 30 * time.Second,
	})
	post := func() int {
		rec := httptest.NewRecorder()
		other.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/credentials",
			strings.NewReader(fmt.Sprintf(`{"key": %q}`, tk.app.Key))))
		return rec.Code
	}
	if code := post(); code != 200 {
		t.Fatalf("second Kit: status %d, want 200", code)
	}
	if err := tk.RevokeKey(ctx, tk.app.KeyID); err != nil {
		t.Fatal(err)
	}
	if code := post(); code != 200 {
		t.Fatalf("second Kit within the cache TTL: status %d, want 200 (cached)", code)
	}
	tk.clock.Advance(31 * time.Second)
	if code := post(); code != http.StatusUnauthorized {
		t.Fatalf("second Kit after the cache TTL: status %d, want 401", code)
	}
}

func mustAddKey(t *testing.T, kit *turnkit.Kit, appID string) (string, string) {
	t.Helper()
	id, key, err := kit.AddKey(context.Background(), appID)
	if err != nil {
		t.Fatalf("AddKey: %v", err)
	}
	if !strings.HasPrefix(key, turnkit.APIKeyPrefix) || len(key) < 32 {
		t.Fatalf("AddKey returned key %q: want the %q prefix and ≥128 random bits", key, turnkit.APIKeyPrefix)
	}
	return id, key
}
