package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// testSecrets checks the Secrets contract.
func testSecrets(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"AddThenList", func(t *testing.T, s store.Store) {
			want := newSecret("k1", at(1)) // NotAfter zero: in service without an end
			mustAddSecret(t, s, want)
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{want})
		}},
		{"AddWithNotAfter", func(t *testing.T, s store.Store) {
			want := newSecret("k1", at(1))
			want.NotAfter = at(3600)
			mustAddSecret(t, s, want)
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{want})
		}},
		{"ListEmpty", func(t *testing.T, s store.Store) {
			list := mustListSecrets(t, s)
			if list == nil || len(list) != 0 {
				t.Errorf("ListSecrets on an empty store = %#v, want an empty, non-nil slice", list)
			}
		}},
		{"ListOldestFirst", func(t *testing.T, s store.Store) {
			mid, newest, oldest := newSecret("kb", at(20)), newSecret("ka", at(30)), newSecret("kc", at(10))
			mid.NotAfter = at(100)
			for _, sec := range []store.Secret{mid, newest, oldest} { // neither in time nor in ID order
				mustAddSecret(t, s, sec)
			}
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{oldest, mid, newest})
		}},
		{"ListSameTimeInAddOrder", func(t *testing.T, s store.Store) {
			var want []store.Secret
			for _, id := range []string{"kc", "ka", "kd", "kb"} { // not in ID order
				sec := newSecret(id, at(5))
				mustAddSecret(t, s, sec)
				want = append(want, sec)
			}
			earlier := newSecret("kz", at(1))
			mustAddSecret(t, s, earlier)
			checkSecrets(t, mustListSecrets(t, s), append([]store.Secret{earlier}, want...))
		}},
		{"AddDuplicateID", func(t *testing.T, s store.Store) {
			first := newSecret("k1", at(1))
			mustAddSecret(t, s, first)
			dup := store.Secret{ID: "k1", Value: []byte("other value"), CreatedAt: at(2), NotAfter: at(3)}
			checkErr(t, "AddSecret(duplicate ID)", s.AddSecret(t.Context(), dup), store.ErrExists)
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{first})
		}},
		{"Retire", func(t *testing.T, s store.Store) {
			a, b := newSecret("k1", at(1)), newSecret("k2", at(2))
			mustAddSecret(t, s, a)
			mustAddSecret(t, s, b)
			if err := s.RetireSecret(t.Context(), "k1", at(100)); err != nil {
				t.Fatalf("RetireSecret: %v", err)
			}
			a.NotAfter = at(100)
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{a, b})
		}},
		{"RetireAgainSets", func(t *testing.T, s store.Store) {
			sec := newSecret("k1", at(1))
			mustAddSecret(t, s, sec)
			for _, n := range []int{100, 50, 200} { // later, then earlier, then later again
				if err := s.RetireSecret(t.Context(), "k1", at(n)); err != nil {
					t.Fatalf("RetireSecret at +%ds: %v", n, err)
				}
			}
			sec.NotAfter = at(200)
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{sec})
		}},
		{"RetireZeroClears", func(t *testing.T, s store.Store) {
			sec := newSecret("k1", at(1))
			sec.NotAfter = at(100)
			mustAddSecret(t, s, sec)
			if err := s.RetireSecret(t.Context(), "k1", time.Time{}); err != nil {
				t.Fatalf("RetireSecret(zero time): %v", err)
			}
			sec.NotAfter = time.Time{}
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{sec})
		}},
		{"RetireUnknown", func(t *testing.T, s store.Store) {
			sec := newSecret("k1", at(1))
			mustAddSecret(t, s, sec)
			checkErr(t, "RetireSecret(unknown)", s.RetireSecret(t.Context(), "k2", at(100)), store.ErrNotFound)
			checkSecrets(t, mustListSecrets(t, s), []store.Secret{sec})
		}},
		{"ValueBytesExact", func(t *testing.T, s store.Store) {
			all := make([]byte, 256)
			for i := range all {
				all[i] = byte(i)
			}
			values := []struct {
				name  string
				value []byte
			}{
				{"AllByteValues", all},
				{"Zeros", make([]byte, 32)},
				{"TrailingZeros", []byte{0xde, 0xad, 0, 0}},
				{"InvalidUTF8", []byte{0xff, 0xfe, 0xc3, 0x28, 0x80}},
				{"OneByte", []byte{0x80}},
				{"Long", bytes.Repeat([]byte{0x5a, 0x00, 0xa5}, 4096)},
			}
			var want []store.Secret
			for i, v := range values {
				sec := store.Secret{ID: "k" + v.name, Value: v.value, CreatedAt: at(i)}
				mustAddSecret(t, s, sec)
				want = append(want, sec)
			}
			checkSecrets(t, mustListSecrets(t, s), want)
		}},
		{"ValueNotAliased", func(t *testing.T, s store.Store) {
			value := []byte("secret value")
			mustAddSecret(t, s, store.Secret{ID: "k1", Value: value, CreatedAt: at(1)})
			value[0] = 'X' // the caller reuses its buffer
			first := mustListSecrets(t, s)
			if len(first) != 1 {
				t.Fatalf("got %d secrets, want 1", len(first))
			}
			if string(first[0].Value) != "secret value" {
				t.Errorf("stored Value = %q after the caller changed its slice, want %q", first[0].Value, "secret value")
			}
			first[0].Value[1] = 'Y' // the caller changes what it was given
			second := mustListSecrets(t, s)
			if len(second) != 1 || string(second[0].Value) != "secret value" {
				t.Errorf("ListSecrets after the caller changed a returned Value = %q, want %q", secretValues(second), "secret value")
			}
		}},
	})
}

func secretValues(list []store.Secret) []string {
	v := make([]string, len(list))
	for i, s := range list {
		v[i] = string(s.Value)
	}
	return v
}
