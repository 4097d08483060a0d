package relay

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrMalformedUsername is returned, wrapped, when a TURN username is not in
// turnkit's REST API form.
var ErrMalformedUsername = errors.New("turnkit: malformed TURN username")

// MaxUsernameLen bounds the length of a username the relay will parse. The
// longest username in turnkit's form, every part and optional segment at
// its longest, is 227 bytes; STUN allows 513.
const MaxUsernameLen = 256

// Username is the structured form of a TURN REST API username as turnkit
// mints it:
//
//	{expiry_unix}:{app_id}_{key_id}.{nonce}[.k{api_key}][.g{gateway}]
//
// The part before ':' is the expiry in Unix seconds, as the TURN REST API
// draft and coturn's static-auth-secret expect (coturn reads only that
// part, so every username in this form also verifies on coturn). The app ID
// attributes the session; the key ID names the relay secret that signed the
// credential, so the relay can verify credentials minted under a secret
// that has since been rotated out; the nonce makes every username distinct.
//
// Optional segments follow the nonce: a '.', a tag letter and an
// alphanumeric value, each at most once and in this order: 'k' for the ID
// of the API key that minted the credential (so that the credentials of a
// revoked key can be refused) and 'g' for the gateway it was issued
// through. A username without segments has exactly the form turnkit minted
// before segments existed.
type Username struct {
	// Expires is when the credential stops opening new allocations.
	Expires time.Time
	// AppID identifies the app. It is 1 to 64 characters of [A-Za-z0-9-].
	AppID string
	// KeyID names the relay secret. It is 1 to 16 characters of [a-z0-9].
	KeyID string
	// Nonce is 1 to 64 characters of [A-Za-z0-9].
	Nonce string
	// APIKey is the ID of the API key that minted the credential, 1 to 32
	// characters of [A-Za-z0-9] (segment 'k'). Empty: not named.
	APIKey string
	// Gateway is the tag of the gateway the credential was issued through,
	// 1 to 32 characters of [a-z0-9] (segment 'g'). Empty: none.
	Gateway string
}

// String returns the username in wire form. It does not validate the
// parts: check those that come from outside with ValidAppID, ValidKeyID,
// ValidAPIKey and ValidGateway, or parse the result.
func (u Username) String() string {
	s := strconv.FormatInt(u.Expires.Unix(), 10) + ":" + u.AppID + "_" + u.KeyID + "." + u.Nonce
	if u.APIKey != "" {
		s += ".k" + u.APIKey
	}
	if u.Gateway != "" {
		s += ".g" + u.Gateway
	}
	return s
}

// ParseUsername parses a username minted by turnkit. Anything else — wrong
// separators, characters outside the allowed sets, empty or oversized parts,
// an expiry that is not a positive decimal, an unknown, repeated or
// misplaced optional segment — is an error wrapping ErrMalformedUsername.
func ParseUsername(s string) (Username, error) {
	bad := func(why string) (Username, error) {
		return Username{}, fmt.Errorf("%w %q: %s", ErrMalformedUsername, truncate(s, 64), why)
	}
	if len(s) > MaxUsernameLen {
		return bad("too long")
	}
	colon := indexByte(s, ':')
	if colon < 1 || colon > 12 {
		return bad("no expiry before ':'")
	}
	if s[0] == '0' {
		return bad("expiry has a leading zero")
	}
	var exp int64
	for i := 0; i < colon; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return bad("expiry is not a decimal number")
		}
		exp = exp*10 + int64(c-'0')
	}
	if exp <= 0 {
		return bad("expiry is not positive")
	}
	rest := s[colon+1:]
	us := indexByte(rest, '_')
	if us < 1 || us > 64 {
		return bad("no app ID before '_'")
	}
	app, tail := rest[:us], rest[us+1:]
	if !allBytes(app, isAppIDByte) {
		return bad("app ID has a character outside [A-Za-z0-9-]")
	}
	dot := indexByte(tail, '.')
	if dot < 1 || dot > 16 {
		return bad("no key ID before '.'")
	}
	kid, nonce := tail[:dot], tail[dot+1:]
	if !allBytes(kid, isKeyIDByte) {
		return bad("key ID has a character outside [a-z0-9]")
	}
	nonce, segs, more := strings.Cut(nonce, ".")
	if len(nonce) < 1 || len(nonce) > 64 || !allBytes(nonce, isAlnum) {
		return bad("nonce is empty, too long or not alphanumeric")
	}
	u := Username{Expires: time.Unix(exp, 0), AppID: app, KeyID: kid, Nonce: nonce}
	next := 0 // the first segment, in usernameSegments order, still allowed
	for more {
		var seg string
		seg, segs, more = strings.Cut(segs, ".")
		if seg == "" {
			return bad("empty segment")
		}
		i := segmentIndex(seg[0])
		switch {
		case i < 0:
			return bad(fmt.Sprintf("unknown segment %q", truncate(seg, 8)))
		case i == next-1:
			return bad("repeated " + usernameSegments[i].name + " segment")
		case i < next:
			return bad(usernameSegments[i].name + " segment out of order")
		}
		v := seg[1:]
		if !usernameSegments[i].valid(v) {
			return bad(usernameSegments[i].name + " segment: " + usernameSegments[i].rule)
		}
		*usernameSegments[i].field(&u) = v
		next = i + 1
	}
	return u, nil
}

// usernameSegments are the optional segments of a username, in the order
// they must appear.
var usernameSegments = [...]struct {
	tag   byte
	name  string
	rule  string
	valid func(string) bool
	field func(*Username) *string
}{
	{'k', "API key", "want 1 to 32 characters of [A-Za-z0-9]", ValidAPIKey, func(u *Username) *string { return &u.APIKey }},
	{'g', "gateway", "want 1 to 32 characters of [a-z0-9]", ValidGateway, func(u *Username) *string { return &u.Gateway }},
}

func segmentIndex(tag byte) int {
	for i, s := range usernameSegments {
		if s.tag == tag {
			return i
		}
	}
	return -1
}

// ValidAppID reports whether id can be embedded in a username.
func ValidAppID(id string) bool {
	return len(id) >= 1 && len(id) <= 64 && allBytes(id, isAppIDByte)
}

// ValidKeyID reports whether id can name a relay secret in a username.
func ValidKeyID(id string) bool {
	return len(id) >= 1 && len(id) <= 16 && allBytes(id, isKeyIDByte)
}

// ValidAPIKey reports whether id can name an API key in a username's 'k'
// segment.
func ValidAPIKey(id string) bool {
	return len(id) >= 1 && len(id) <= 32 && allBytes(id, isAlnum)
}

// ValidGateway reports whether tag can name a gateway in a username's 'g'
// segment.
func ValidGateway(tag string) bool {
	return len(tag) >= 1 && len(tag) <= 32 && allBytes(tag, isKeyIDByte)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isAppIDByte(c byte) bool { return isAlnum(c) || c == '-' }

func isKeyIDByte(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
