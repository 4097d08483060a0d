package compat

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

var (
	errBad   = errors.New("bad request")
	errBig   = errors.New("too large")
	errMedia = errors.New("unsupported media")
	fuzzRD   = httpx.Reader{Limit: 4096, Errors: httpx.Errors{BadRequest: errBad, TooLarge: errBig, UnsupportedMedia: errMedia}}
)

// FuzzTurnixBody feeds arbitrary bodies to the Turnix body parser (JSON or
// form, as the vendor's clients send them; the corpus in
// testdata/fuzz/FuzzTurnixBody holds the document's bodies). It never
// panics; it fails only with the bad-request or too-large kind; and what
// it accepts is consistent: at most one region, a TTL in range, and for a
// form the very values url.ParseQuery reads.
func FuzzTurnixBody(f *testing.F) {
	for _, s := range []string{
		"", "{}", `{"ttl": 60}`, `{"ttl": "60"}`, `{"preferred_region":"eu-central"}`, `{"preffered_region":"eu-central"}`,
		"preffered_region=eu-central", "fixed_region=eu-central", "initiator_client=a&receiver_client=b&room=c",
		`{"room": "r", "room": "s"}`, "room=a&room=b", `{"ttl": 1e9}`, "ttl=%zz", `{"ttl": -1}`, " \n{\"room\":\"x\"} ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := parseTurnixBody(fuzzRD, []byte(body))
		if err != nil {
			if !errors.Is(err, errBad) && !errors.Is(err, errBig) {
				t.Fatalf("parseTurnixBody(%q) = %v, want a bad-request or too-large error", body, err)
			}
			return
		}
		if p.FixedRegion != "" && p.PreferredRegion != "" {
			t.Fatalf("parseTurnixBody(%q) accepted both regions: %+v", body, p)
		}
		if p.TTL < 0 || p.TTL > maxSeconds*time.Second || p.TTL%time.Second != 0 {
			t.Fatalf("parseTurnixBody(%q): TTL %s out of range", body, p.TTL)
		}
		trimmed := strings.TrimSpace(body)
		if trimmed == "" || trimmed[0] == '{' {
			return
		}
		v, err := url.ParseQuery(trimmed)
		if err != nil {
			t.Fatalf("parseTurnixBody(%q) accepted a form url.ParseQuery refuses: %v", body, err)
		}
		for name, got := range map[string]string{
			"room": p.Metadata.Room, "initiator_client": p.Metadata.Initiator, "receiver_client": p.Metadata.Receiver,
			"fixed_region": p.FixedRegion,
		} {
			if want := v.Get(name); got != want {
				t.Fatalf("parseTurnixBody(%q): %s = %q, url.ParseQuery reads %q", body, name, got, want)
			}
		}
	})
}

// FuzzMeteredQuery feeds arbitrary query strings to the Metered query
// parser (the corpus in testdata/fuzz/FuzzMeteredQuery holds the
// documents' queries). It never panics; it fails only with the bad-request
// or too-large kind; what it accepts names only allowed parameters, each
// once, with the values url.ParseQuery reads, and a page in range.
func FuzzMeteredQuery(f *testing.F) {
	for _, s := range []string{
		"apiKey=a57a9a52a4a56f5daffb86a0b6179e00e624", "apiKey=k&region=us_east", "secretKey=s&page=2&label=room&all",
		"apiKey=k&apiKey=k", "page=0", "page=+1", "page=01", "all=false", "apiKey=%zz", "x=1", "secretKey=s;label=x",
		"label=" + strings.Repeat("l", 100),
	} {
		f.Add(s)
	}
	allowed := []string{"apiKey", "secretKey", "region", "page", "label", "all"}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseMeteredQuery(fuzzRD, raw, allowed...)
		if err != nil {
			if !errors.Is(err, errBad) && !errors.Is(err, errBig) {
				t.Fatalf("parseMeteredQuery(%q) = %v, want a bad-request or too-large error", raw, err)
			}
			return
		}
		if len(raw) > int(fuzzRD.Limit) {
			t.Fatalf("parseMeteredQuery accepted a query of %d bytes", len(raw))
		}
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("parseMeteredQuery(%q) accepted what url.ParseQuery refuses: %v", raw, err)
		}
		for name, vals := range v {
			if len(vals) != 1 || !slices.Contains(allowed, name) {
				t.Fatalf("parseMeteredQuery(%q) accepted parameter %q given %d times", raw, name, len(vals))
			}
		}
		for name, got := range map[string]string{"apiKey": q.APIKey, "secretKey": q.SecretKey, "region": q.Region, "label": q.Label} {
			if got != v.Get(name) {
				t.Fatalf("parseMeteredQuery(%q): %s = %q, url.ParseQuery reads %q", raw, name, got, v.Get(name))
			}
		}
		if q.Page < 0 || q.Page > meteredMaxPage || (q.Page == 0) != (v.Get("page") == "") {
			t.Fatalf("parseMeteredQuery(%q): page %d", raw, q.Page)
		}
		if _, all := v["all"]; q.All && !all {
			t.Fatalf("parseMeteredQuery(%q): all set without the parameter", raw)
		}
	})
}
