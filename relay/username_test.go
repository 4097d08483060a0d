package relay_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/relay"
)

func TestParseUsername(t *testing.T) {
	longest := "999999999999:" + strings.Repeat("a", 64) + "_" + strings.Repeat("k", 16) + "." + strings.Repeat("n", 64) +
		".k" + strings.Repeat("K", 32) + ".g" + strings.Repeat("0", 32)
	good := []struct {
		in              string
		exp             int64
		app, kid, nonce string
		apiKey, gateway string
	}{
		{"1767225600:demo_s1a2b3c4.nonce42", 1767225600, "demo", "s1a2b3c4", "nonce42", "", ""},
		{"1:a_k.n", 1, "a", "k", "n", "", ""},
		{"999999999999:App-ID-9_0123456789abcdef.ABCxyz", 999999999999, "App-ID-9", "0123456789abcdef", "ABCxyz", "", ""},
		{"1767225600:demo_s1.n1.kkeyabc234", 1767225600, "demo", "s1", "n1", "keyabc234", ""},
		{"1767225600:demo_s1.n1.g0123456789abcdef0123", 1767225600, "demo", "s1", "n1", "", "0123456789abcdef0123"},
		{"1767225600:demo_s1.n1.kKey9.gab12", 1767225600, "demo", "s1", "n1", "Key9", "ab12"},
		{"1:a_k.n.kk.gg", 1, "a", "k", "n", "k", "g"},
		{longest, 999999999999, strings.Repeat("a", 64), strings.Repeat("k", 16), strings.Repeat("n", 64), strings.Repeat("K", 32), strings.Repeat("0", 32)},
	}
	if len(longest) != 227 || len(longest) > relay.MaxUsernameLen {
		t.Fatalf("the longest username is %d bytes; MaxUsernameLen is %d", len(longest), relay.MaxUsernameLen)
	}
	for _, tc := range good {
		t.Run("ok "+tc.in, func(t *testing.T) {
			u, err := relay.ParseUsername(tc.in)
			if err != nil {
				t.Fatalf("ParseUsername: %v", err)
			}
			if u.Expires.Unix() != tc.exp || u.AppID != tc.app || u.KeyID != tc.kid || u.Nonce != tc.nonce ||
				u.APIKey != tc.apiKey || u.Gateway != tc.gateway {
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
		"over the length cap":   "1767225600:demo_k.n.k" + strings.Repeat("a", 32) + ".g" + strings.Repeat("b", 250),
	}
	for name, in := range bad {
		t.Run("bad "+name, func(t *testing.T) {
			_, err := relay.ParseUsername(in)
			if !errors.Is(err, relay.ErrMalformedUsername) {
				t.Fatalf("ParseUsername(%q) error %v, want ErrMalformedUsername", in, err)
			}
		})
	}
	// Optional segments: each refusal says why.
	segments := map[string]struct{ in, why string }{
		"unknown tag":          {"1767225600:demo_k.n.xabc", `unknown segment "xabc"`},
		"upper-case tag":       {"1767225600:demo_k.n.Kabc", `unknown segment "Kabc"`},
		"tag without value":    {"1767225600:demo_k.n.k", "API key segment"},
		"gateway without tag":  {"1767225600:demo_k.n.g", "gateway segment"},
		"empty segment":        {"1767225600:demo_k.n..kabc", "empty segment"},
		"trailing dot":         {"1767225600:demo_k.n.kabc.", "empty segment"},
		"repeated API key":     {"1767225600:demo_k.n.kabc.kdef", "repeated API key segment"},
		"repeated gateway":     {"1767225600:demo_k.n.gab.gcd", "repeated gateway segment"},
		"out of order":         {"1767225600:demo_k.n.gab.kcd", "API key segment out of order"},
		"API key too long":     {"1767225600:demo_k.n.k" + strings.Repeat("a", 33), "API key segment"},
		"API key with dash":    {"1767225600:demo_k.n.kab-c", "API key segment"},
		"gateway upper-case":   {"1767225600:demo_k.n.gABC", "gateway segment"},
		"gateway too long":     {"1767225600:demo_k.n.g" + strings.Repeat("a", 33), "gateway segment"},
		"gateway with unicode": {"1767225600:demo_k.n.gé", "gateway segment"},
		"segment with colon":   {"1767225600:demo_k.n.ka:b", "API key segment"},
	}
	for name, tc := range segments {
		t.Run("segment "+name, func(t *testing.T) {
			_, err := relay.ParseUsername(tc.in)
			if !errors.Is(err, relay.ErrMalformedUsername) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("ParseUsername(%q) error %v, want ErrMalformedUsername saying %q", tc.in, err, tc.why)
			}
		})
	}
}

func TestUsernameRoundTrip(t *testing.T) {
	for _, u := range []relay.Username{
		{Expires: time.Unix(1767225600, 0), AppID: "a1", KeyID: "k2", Nonce: "n3"},
		{Expires: time.Unix(1767225600, 0), AppID: "a1", KeyID: "k2", Nonce: "n3", APIKey: "keyabc"},
		{Expires: time.Unix(1767225600, 0), AppID: "a1", KeyID: "k2", Nonce: "n3", Gateway: "0f0f"},
		{Expires: time.Unix(1767225600, 0), AppID: "a1", KeyID: "k2", Nonce: "n3", APIKey: "keyabc", Gateway: "0f0f"},
	} {
		got, err := relay.ParseUsername(u.String())
		if err != nil || got != u {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", u.String(), got, err, u)
		}
	}
}

// TestUsernameFormCoturn: whatever the segments, the part before the
// first ':' is the expiry alone, which is all coturn's REST API check
// reads.
func TestUsernameFormCoturn(t *testing.T) {
	u := relay.Username{Expires: time.Unix(1767225600, 0), AppID: "a1", KeyID: "k2", Nonce: "n3", APIKey: "key1", Gateway: "ab"}
	exp, rest, ok := strings.Cut(u.String(), ":")
	if !ok || exp != "1767225600" || strings.Contains(rest, ":") {
		t.Fatalf("username %q is not {expiry}:{rest} with one colon", u.String())
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
	for _, s := range []string{"1767225600:demo_s1a2b3c4.nonce42", "1:a_k.n", "", "alice", ":_.", "1:a_k.n.n",
		"1767225600:demo_s1.n1.kkeyabc234", "1767225600:demo_s1.n1.g0123456789abcdef0123",
		"1767225600:demo_s1.n1.kKey9.gab12", "1:a_k.n.gab.kcd", "1:a_k.n.kab.kab", "1:a_k.n.k", "1:a_k.n.", "1:a_k.n.x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := relay.ParseUsername(s)
		if err != nil {
			if !errors.Is(err, relay.ErrMalformedUsername) {
				t.Fatalf("ParseUsername(%q): %v does not wrap ErrMalformedUsername", s, err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("accepted %q but prints as %q", s, u.String())
		}
		again, err := relay.ParseUsername(u.String())
		if err != nil || again != u {
			t.Fatalf("String then Parse of %+v: %+v, %v", u, again, err)
		}
		if !relay.ValidAppID(u.AppID) || !relay.ValidKeyID(u.KeyID) ||
			(u.APIKey != "" && !relay.ValidAPIKey(u.APIKey)) || (u.Gateway != "" && !relay.ValidGateway(u.Gateway)) {
			t.Fatalf("accepted %q with invalid parts %+v", s, u)
		}
	})
}

// FuzzUsernameString: every Username with valid parts prints to a string
// that parses back to the same value, within MaxUsernameLen.
func FuzzUsernameString(f *testing.F) {
	f.Add(int64(1767225600), "demo", "s1", "n1", "", "")
	f.Add(int64(1), "a", "k", "n", "keyabc", "0f0f")
	f.Add(int64(999999999999), "App-ID-9", "0123456789abcdef", "ABCxyz", "K", "g")
	f.Fuzz(func(t *testing.T, exp int64, app, kid, nonce, apiKey, gateway string) {
		u := relay.Username{Expires: time.Unix(exp, 0), AppID: app, KeyID: kid, Nonce: nonce, APIKey: apiKey, Gateway: gateway}
		valid := exp > 0 && exp <= 999999999999 && relay.ValidAppID(app) && relay.ValidKeyID(kid) &&
			len(nonce) >= 1 && len(nonce) <= 64 && strings.Trim(nonce, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "" &&
			(apiKey == "" || relay.ValidAPIKey(apiKey)) && (gateway == "" || relay.ValidGateway(gateway))
		got, err := relay.ParseUsername(u.String())
		switch {
		case valid && (err != nil || got != u):
			t.Fatalf("%+v prints as %q, which parses to %+v, %v", u, u.String(), got, err)
		case valid && len(u.String()) > relay.MaxUsernameLen:
			t.Fatalf("%q is longer than MaxUsernameLen", u.String())
		case !valid && err == nil && got == u:
			t.Fatalf("%+v has an invalid part but round-trips through %q", u, u.String())
		}
	})
}
