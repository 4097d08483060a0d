package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/httpx"
)

var (
	errBad   = errors.New("bad")
	errBig   = errors.New("big")
	errMedia = errors.New("media")
	rd       = httpx.Reader{Limit: 64, Errors: httpx.Errors{BadRequest: errBad, TooLarge: errBig, UnsupportedMedia: errMedia}}
)

type body struct {
	Key *string `json:"key"`
	TTL *int    `json:"expiry_ttl"`
}

func TestJSON(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		want              error
		key               string
	}{
		{"ok", "application/json", `{"key":"k1","expiry_ttl":3}`, nil, "k1"},
		{"charset", "application/json; charset=utf-8", `{"key":"k1"}`, nil, "k1"},
		{"plus json", "application/vnd.api+json", `{"key":"k1"}`, nil, "k1"},
		{"no content type", "", `{"key":"k1"}`, nil, "k1"},
		{"empty body", "application/json", ``, nil, ""},
		{"whitespace body", "application/json", " \n", nil, ""},
		{"upper-case name", "application/json", `{"KEY":"k1"}`, errBad, ""},
		{"mixed-case name", "application/json", `{"Expiry_TTL":3}`, errBad, ""},
		{"duplicate", "application/json", `{"key":"a","key":"b"}`, errBad, ""},
		{"unknown", "application/json", `{"key":"a","x":1}`, errBad, ""},
		{"wrong type", "application/json", `{"key":1}`, errBad, ""},
		{"array", "application/json", `["key"]`, errBad, ""},
		{"trailing", "application/json", `{"key":"a"}{}`, errBad, ""},
		{"truncated", "application/json", `{"key":"a"`, errBad, ""},
		{"not json", "application/json", `key=a`, errBad, ""},
		{"too large", "application/json", `{"key":"` + strings.Repeat("a", 100) + `"}`, errBig, ""},
		{"form type", "application/x-www-form-urlencoded", `{"key":"a"}`, errMedia, ""},
		{"text type", "text/plain", `{"key":"a"}`, errMedia, ""},
		{"malformed type", "application/json; =", `{"key":"a"}`, errBad, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			var b body
			err := rd.JSON(httptest.NewRecorder(), r, &b)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("JSON(%s) = %v, want %v", c.body, err, c.want)
			}
			if c.want == nil && c.key != "" && (b.Key == nil || *b.Key != c.key) {
				t.Fatalf("key = %v, want %q", b.Key, c.key)
			}
		})
	}
}

func TestFormAndQuery(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     error
	}{
		{"ok", "room=r1&ttl=30", nil},
		{"empty", "", nil},
		{"unknown", "room=r1&zz=1", errBad},
		{"repeated", "room=a&room=b", errBad},
		{"case", "Room=a", errBad},
		{"bad escape", "room=%zz", errBad},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := rd.DecodeForm([]byte(c.in), "room", "ttl")
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("DecodeForm(%q) = %v, want %v", c.in, err, c.want)
			}
			r := httptest.NewRequest(http.MethodGet, "/?"+c.in, nil)
			_, err = rd.Query(r, "room", "ttl")
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("Query(%q) = %v, want %v", c.in, err, c.want)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/?room="+strings.Repeat("a", 100), nil)
	if _, err := rd.Query(r, "room"); !errors.Is(err, errBig) {
		t.Errorf("Query(long) = %v, want %v", err, errBig)
	}
}

func TestBearer(t *testing.T) {
	for _, c := range []struct {
		name   string
		header []string
		token  string
		ok     bool
	}{
		{"none", nil, "", false},
		{"bearer", []string{"Bearer tk_1"}, "tk_1", true},
		{"lower case scheme", []string{"bearer tk_1"}, "tk_1", true},
		{"extra spaces", []string{"  Bearer   tk_1 "}, "tk_1", true},
		{"basic", []string{"Basic dXNlcjpwdw=="}, "", true},
		{"scheme only", []string{"Bearer"}, "", true},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			for _, h := range c.header {
				r.Header.Add("Authorization", h)
			}
			token, ok := httpx.Bearer(r)
			if token != c.token || ok != c.ok {
				t.Errorf("Bearer = %q, %v; want %q, %v", token, ok, c.token, c.ok)
			}
		})
	}
}

func TestClip(t *testing.T) {
	if got := httpx.Clip(strings.Repeat("é", 30)); !strings.HasSuffix(got, "…") || len(got) > 43 {
		t.Errorf("Clip = %q", got)
	}
	if got := httpx.Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
}

// failingBody is a request body whose read fails midway.
type failingBody struct{ sent bool }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.sent {
		return 0, errors.New("connection reset")
	}
	b.sent = true
	return copy(p, `{"key":`), nil
}

func (*failingBody) Close() error { return nil }

// TestBodyErrors: a body whose read fails is a bad request naming the
// failure, a request without body reads as empty, and a Reader whose
// Errors are unset returns plain errors that still say what is wrong.
func TestBodyErrors(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Body = &failingBody{}
	if _, err := rd.Body(httptest.NewRecorder(), r); !errors.Is(err, errBad) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("Body with a failing read = %v, want %v naming the failure", err, errBad)
	}
	r = httptest.NewRequest(http.MethodPost, "/", nil)
	r.Body = nil
	if b, err := rd.Body(httptest.NewRecorder(), r); b != nil || err != nil {
		t.Errorf("Body of a request without body = %q, %v; want nothing", b, err)
	}
	plain := httpx.Reader{Limit: 8}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"key":"0123456789"}`))
	err := plain.JSON(httptest.NewRecorder(), r, &body{})
	if err == nil || err.Error() != "body is over 8 bytes" || errors.Unwrap(err) != nil {
		t.Errorf("JSON over the limit with no error kinds = %v, want the plain error %q", err, "body is over 8 bytes")
	}
}

// TestJSONErrorText: a value of the wrong type names the member and both
// types; a truncated body says it ended early.
func TestJSONErrorText(t *testing.T) {
	for in, want := range map[string]string{
		`{"expiry_ttl":"soon"}`: `field "expiry_ttl" must be a int, got string`,
		`{"key":"a"`:            "unexpected end of JSON input",
	} {
		if err := rd.DecodeJSON([]byte(in), &body{}); !errors.Is(err, errBad) || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeJSON(%s) = %v, want %v saying %q", in, err, errBad, want)
		}
	}
}

// TestWriteJSON: the answer is JSON, never cached nor sniffed, with the
// status given.
func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	httpx.WriteJSON(w, http.StatusTeapot, map[string]int{"n": 1})
	if w.Code != http.StatusTeapot || w.Body.String() != "{\"n\":1}\n" {
		t.Errorf("WriteJSON wrote %d %q", w.Code, w.Body)
	}
	for name, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := w.Header().Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
