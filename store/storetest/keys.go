package storetest

import (
	"testing"

	"github.com/turnkit/turnkit/store"
)

// testKeys checks the Keys contract.
func testKeys(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"AddThenByHash", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			want := newKey("key1", "app1", at(1))
			want.Hash[0], want.Hash[1], want.Hash[31] = 0x00, 0xff, 0x00 // bytes a text encoding could mangle
			mustAddKey(t, s, want)
			got := mustKeyByHash(t, s, want.Hash)
			checkKey(t, got, want)
			if got.Revoked() {
				t.Errorf("new key reports Revoked, RevokedAt = %v", got.RevokedAt)
			}
		}},
		{"ByHashDistinct", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			a, b := newKey("key1", "app1", at(1)), newKey("key2", "app2", at(2))
			mustAddKey(t, s, a)
			mustAddKey(t, s, b)
			checkKey(t, mustKeyByHash(t, s, a.Hash), a)
			checkKey(t, mustKeyByHash(t, s, b.Hash), b)
		}},
		{"ByHashUnknown", func(t *testing.T, s store.Store) {
			_, err := s.KeyByHash(t.Context(), hashOf("key1"))
			checkErr(t, "KeyByHash on an empty store", err, store.ErrNotFound)
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app1", at(1))
			mustAddKey(t, s, k)
			for name, i := range map[string]int{"first byte": 0, "last byte": 31} {
				h := k.Hash
				h[i] ^= 1
				_, err := s.KeyByHash(t.Context(), h)
				checkErr(t, "KeyByHash(hash differing in the "+name+")", err, store.ErrNotFound)
			}
			_, err = s.KeyByHash(t.Context(), [32]byte{})
			checkErr(t, "KeyByHash(zero hash)", err, store.ErrNotFound)
		}},
		{"AddDuplicateID", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			first := newKey("key1", "app1", at(1))
			mustAddKey(t, s, first)
			dup := first
			dup.Hash = hashOf("another key")
			checkErr(t, "AddKey(duplicate ID)", s.AddKey(t.Context(), dup), store.ErrExists)
			_, err := s.KeyByHash(t.Context(), dup.Hash)
			checkErr(t, "KeyByHash of the refused key", err, store.ErrNotFound)
			checkKeys(t, mustAppKeys(t, s, "app1"), []store.APIKey{first})
		}},
		{"AddDuplicateHash", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			first := newKey("key1", "app1", at(1))
			mustAddKey(t, s, first)
			dup := newKey("key2", "app1", at(2))
			dup.Hash = first.Hash
			checkErr(t, "AddKey(duplicate hash, new ID)", s.AddKey(t.Context(), dup), store.ErrExists)
			checkKey(t, mustKeyByHash(t, s, first.Hash), first)
			checkKeys(t, mustAppKeys(t, s, "app1"), []store.APIKey{first})
		}},
		{"AddDuplicateHashOtherApp", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			first := newKey("key1", "app1", at(1))
			mustAddKey(t, s, first)
			dup := newKey("key2", "app2", at(2))
			dup.Hash = first.Hash
			checkErr(t, "AddKey(hash of another app's key)", s.AddKey(t.Context(), dup), store.ErrExists)
			checkKey(t, mustKeyByHash(t, s, first.Hash), first)
			checkKeys(t, mustAppKeys(t, s, "app2"), nil)
		}},
		{"AddUnknownApp", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app2", at(1))
			checkErr(t, "AddKey(unknown app)", s.AddKey(t.Context(), k), store.ErrNotFound)
			_, err := s.KeyByHash(t.Context(), k.Hash)
			checkErr(t, "KeyByHash of the refused key", err, store.ErrNotFound)
			mustCreateApp(t, s, newApp("app2"))
			checkKeys(t, mustAppKeys(t, s, "app2"), nil)
		}},
		{"Revoke", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			k, other := newKey("key1", "app1", at(1)), newKey("key2", "app1", at(2))
			mustAddKey(t, s, k)
			mustAddKey(t, s, other)
			if err := s.RevokeKey(t.Context(), "key1", at(10)); err != nil {
				t.Fatalf("RevokeKey: %v", err)
			}
			k.RevokedAt = at(10)
			got := mustKeyByHash(t, s, k.Hash)
			checkKey(t, got, k)
			if !got.Revoked() {
				t.Errorf("revoked key does not report Revoked")
			}
			checkKey(t, mustKeyByHash(t, s, other.Hash), other)
		}},
		{"RevokeTwiceKeepsFirst", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app1", at(1))
			mustAddKey(t, s, k)
			for _, sec := range []int{10, 20, 5} { // later, then earlier, than the first
				if err := s.RevokeKey(t.Context(), "key1", at(sec)); err != nil {
					t.Fatalf("RevokeKey at +%ds: %v", sec, err)
				}
			}
			k.RevokedAt = at(10)
			checkKey(t, mustKeyByHash(t, s, k.Hash), k)
			checkKeys(t, mustAppKeys(t, s, "app1"), []store.APIKey{k})
		}},
		{"RevokeUnknown", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app1", at(1))
			mustAddKey(t, s, k)
			checkErr(t, "RevokeKey(unknown)", s.RevokeKey(t.Context(), "key2", at(10)), store.ErrNotFound)
			checkKey(t, mustKeyByHash(t, s, k.Hash), k)
		}},
		{"AppKeysOldestFirst", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mid, newest, oldest := newKey("key-b", "app1", at(20)), newKey("key-a", "app1", at(30)), newKey("key-c", "app1", at(10))
			for _, k := range []store.APIKey{mid, newest, oldest} { // neither in time nor in ID order
				mustAddKey(t, s, k)
			}
			if err := s.RevokeKey(t.Context(), mid.ID, at(40)); err != nil {
				t.Fatalf("RevokeKey: %v", err)
			}
			mid.RevokedAt = at(40)
			checkKeys(t, mustAppKeys(t, s, "app1"), []store.APIKey{oldest, mid, newest})
		}},
		{"AppKeysSameTimeInAddOrder", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			var want []store.APIKey
			for _, id := range []string{"key-c", "key-a", "key-d", "key-b"} { // not in ID order
				k := newKey(id, "app1", at(5))
				mustAddKey(t, s, k)
				want = append(want, k)
			}
			earlier := newKey("key-z", "app1", at(1))
			mustAddKey(t, s, earlier)
			checkKeys(t, mustAppKeys(t, s, "app1"), append([]store.APIKey{earlier}, want...))
		}},
		{"AppKeysOfThatAppOnly", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			a1, b, a2 := newKey("key1", "app1", at(1)), newKey("key2", "app2", at(2)), newKey("key3", "app1", at(3))
			for _, k := range []store.APIKey{a1, b, a2} {
				mustAddKey(t, s, k)
			}
			checkKeys(t, mustAppKeys(t, s, "app1"), []store.APIKey{a1, a2})
			checkKeys(t, mustAppKeys(t, s, "app2"), []store.APIKey{b})
		}},
		{"AppKeysEmpty", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			mustAddKey(t, s, newKey("key1", "app2", at(1)))
			keys := mustAppKeys(t, s, "app1")
			if keys == nil || len(keys) != 0 {
				t.Errorf("AppKeys of an app without keys = %#v, want an empty, non-nil slice", keys)
			}
		}},
	})
}
