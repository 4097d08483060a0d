package relay_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/relay"
)

func TestParseUsername(t *testing.T) {
	good := []struct {
		in              string
		exp             int64
		app, kid, nonce string
	}{
		{"1767225600:demo_s1a2b3c4.nonce42", 1767225600, "demo", "s1a2b3c4", "nonce42"},
		{"1:a_k.n", 1, "a", "k", "n"},
		{"999999999999:App-ID-9_0123456789abcdef.ABCxyz", 999999999999, "App-ID-9", "0123456789abcdef", "ABCxyz"},
	}
	for _, tc := range good {
		t.Run("ok "+tc.in, func(t *testing.T) {
			u, err := relay.ParseUsername(tc.in)
			if err != nil {
				t.Fatalf("ParseUsername: %v", err)
			}
			if u.Expires.Unix() != tc.exp || u.AppID != tc.app || u.KeyID != tc.kid || u.Nonce != tc.nonce {
				t.Fatalf("got %+v", u)
			}
			if u.String() != tc.in {
				t.Fatalf("String() = %q, want %q", u.String(), tc.in)
			}
		})
	}
	bad := map[string]string{
		"empty":                 "",
		"no colon":              "1767225600demo_k.n",
		"plain name":            "alice",
		"colon first":           ":demo_k.n",
		"expiry not decimal":    "17672x5600:demo_k.n",
		"expiry zero":           "0:demo_k.n",
		"expiry leading zero":   "01:demo_k.n",
		"expiry negative":       "-5:demo_k.n",
		"expiry too long":       "1234567890123:demo_k.n",
		"no underscore":         "1767225600:demo.k.n",
		"empty app":             "1767225600:_k.n",
		"app with colon":        "1767225600:de:mo_k.n",
		"app with space":        "1767225600:de mo_k.n",
		"app too long":          "1767225600:" + strings.Repeat("a", 65) + "_k.n",
		"no dot":                "1767225600:demo_kn",
		"empty key id":          "1767225600:demo_.n",
		"upper key id":          "1767225600:demo_K.n",
		"key id too long":       "1767225600:demo_" + strings.Repeat("k", 17) + ".n",
		"empty nonce":           "1767225600:demo_k.",
		"nonce with dot":        "1767225600:demo_k.n.n",
		"nonce with underscore": "1767225600:demo_k.n_n",
		"nonce unicode":         "1767225600:demo_k.né",
		"nul byte":              "1767225600:demo_k.n\x00",
		"too long":              "1767225600:demo_k." + strings.Repeat("n", 200),
	}
	for name, in := range bad {
		t.Run("bad "+name, func(t *testing.T) {
			_, err := relay.ParseUsername(in)
			if !errors.Is(err, relay.ErrMalformedUsername) {
				t.Fatalf("ParseUsername(%q) error %v, want ErrMalformedUsername", in, err)
			}
		})
	}
}

func TestUsernameRoundTrip(t *testing.T) {
	u := relay.Username{Expires: time.Unix(1767225600, 0), AppID: "a1", KeyID: "k2", Nonce: "n3"}
	got, err := relay.ParseUsername(u.String())
	if err != nil || got != u {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, u)
	}
}

// TestCredential checks the TURN REST API credential against a vector
// computed independently (openssl dgst -sha1 -hmac … | base64):
// base64(HMAC-SHA1(secret, username)).
func TestCredential(t *testing.T) {
	got := relay.Credential([]byte("north-secret-0123456789"), "1767225600:demo_s1a2b3c4.nonce42")
	if want := "q1e11915xbjUJZ+71mybOYBc4z8="; got != want {
		t.Fatalf("Credential = %q, want %q", got, want)
	}
}

// FuzzParseUsername: the parser never panics, and whatever it accepts
// prints back to the same string and parses again to the same value.
func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{"1767225600:demo_s1a2b3c4.nonce42", "1:a_k.n", "", "alice", ":_.", "1:a_k.n.n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := relay.ParseUsername(s)
		if err != nil {
			return
		}
		if u.String() != s {
			t.Fatalf("accepted %q but prints as %q", s, u.String())
		}
		if !relay.ValidAppID(u.AppID) || !relay.ValidKeyID(u.KeyID) {
			t.Fatalf("accepted %q with invalid parts %+v", s, u)
		}
	})
}
