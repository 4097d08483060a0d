package storetest

import (
	"strings"
	"testing"

	"github.com/turnkit/turnkit/store"
)

// testAttribution checks what attributes a session beyond its app: the
// key lookup by ID, a session's key, gateway and metadata, the metadata of
// credentials waiting for their session, and a relay leaving the registry.
func testAttribution(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"KeyByID", func(t *testing.T, s store.Store) {
			_, err := s.Key(t.Context(), "key1")
			checkErr(t, "Key on an empty store", err, store.ErrNotFound)
			mustCreateApp(t, s, newApp("app1"))
			a, b := newKey("key1", "app1", at(1)), newKey("key2", "app1", at(2))
			mustAddKey(t, s, a)
			mustAddKey(t, s, b)
			got, err := s.Key(t.Context(), "key2")
			if err != nil {
				t.Fatalf("Key(key2): %v", err)
			}
			checkKey(t, got, b)
			if err := s.RevokeKey(t.Context(), "key1", at(5)); err != nil {
				t.Fatal(err)
			}
			got, err = s.Key(t.Context(), "key1")
			if err != nil || !got.Revoked() {
				t.Fatalf("Key(revoked key1) = %+v, %v; want it, revoked", got, err)
			}
			checkTime(t, "RevokedAt", got.RevokedAt, at(5))
			_, err = s.Key(t.Context(), "key3")
			checkErr(t, "Key(unknown)", err, store.ErrNotFound)
		}},
		{"SessionAttribution", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			want := newSession("sess1", "app1")
			want.KeyID, want.Gateway = "key1", "0123456789abcdef0123"
			want.Metadata = store.Metadata{Room: "room 42 ✓", Initiator: "alice", Receiver: strings.Repeat("r", store.MaxMetadataLen)}
			mustOpenSession(t, s, want)
			checkSession(t, mustSession(t, s, "sess1"), want)
			plain := newSession("sess2", "app1")
			mustOpenSession(t, s, plain)
			checkSession(t, mustSession(t, s, "sess2"), plain)
		}},
		{"CredentialMetadata", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			m := store.Metadata{Room: "r1", Initiator: "a", Receiver: "b"}
			_, err := s.CredentialMetadata(ctx, "u1", at(0))
			checkErr(t, "CredentialMetadata on an empty store", err, store.ErrNotFound)
			if err := s.PutCredentialMetadata(ctx, "u1", m, at(60)); err != nil {
				t.Fatalf("PutCredentialMetadata: %v", err)
			}
			if err := s.PutCredentialMetadata(ctx, "u2", store.Metadata{Room: "other"}, at(30)); err != nil {
				t.Fatalf("PutCredentialMetadata: %v", err)
			}
			for _, sec := range []int{0, 60} {
				got, err := s.CredentialMetadata(ctx, "u1", at(sec))
				if err != nil || got != m {
					t.Fatalf("CredentialMetadata(u1) at +%ds = %+v, %v; want %+v", sec, got, err, m)
				}
			}
			_, err = s.CredentialMetadata(ctx, "u1", at(61))
			checkErr(t, "CredentialMetadata after expiry", err, store.ErrNotFound)
			m2 := store.Metadata{Room: "replaced"}
			if err := s.PutCredentialMetadata(ctx, "u1", m2, at(120)); err != nil {
				t.Fatalf("PutCredentialMetadata (replace): %v", err)
			}
			if got, err := s.CredentialMetadata(ctx, "u1", at(90)); err != nil || got != m2 {
				t.Fatalf("CredentialMetadata(u1) after replace = %+v, %v; want %+v", got, err, m2)
			}
			n, err := s.ExpireCredentialMetadata(ctx, at(31))
			if err != nil || n != 1 {
				t.Fatalf("ExpireCredentialMetadata = %d, %v; want 1 (u2)", n, err)
			}
			_, err = s.CredentialMetadata(ctx, "u2", at(0))
			checkErr(t, "CredentialMetadata of an expired and swept entry", err, store.ErrNotFound)
			if _, err := s.CredentialMetadata(ctx, "u1", at(90)); err != nil {
				t.Fatalf("sweep removed a live entry: %v", err)
			}
		}},
		{"RemoveRelay", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			if err := s.RemoveRelay(ctx, "r1", "i1"); err != nil {
				t.Fatalf("RemoveRelay of an unknown relay: %v", err)
			}
			for _, id := range []string{"r1", "r2"} {
				if err := s.AnnounceRelay(ctx, newRelayRecord(id)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.RemoveRelay(ctx, "r1", "another instance"); err != nil {
				t.Fatal(err)
			}
			if rs, _ := s.ListRelays(ctx); len(rs) != 2 {
				t.Fatalf("RemoveRelay with another instance removed the relay: %+v", rs)
			}
			if err := s.RemoveRelay(ctx, "r1", "i1"); err != nil {
				t.Fatal(err)
			}
			rs, err := s.ListRelays(ctx)
			if err != nil || len(rs) != 1 || rs[0].ID != "r2" {
				t.Fatalf("ListRelays after RemoveRelay(r1) = %+v, %v; want only r2", rs, err)
			}
		}},
	})
}
