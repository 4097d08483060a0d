package httpx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeJSON: the strict decoder never panics, fails only with the
// kinds it was given, and accepts only a body the standard decoder also
// takes into the same struct, with no member name outside the struct's
// tags.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"key":"a"}`, `{"key":"a","expiry_ttl":5}`, `{"KEY":"a"}`, `{"key":"a","key":"b"}`,
		``, `[]`, `{"key":`, `{"key":"a"}{}`, `{"expiry_ttl":1e999}`, "{\"key\":\"\\u0000\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got body
		err := rd.DecodeJSON(in, &got)
		if err != nil {
			if !errors.Is(err, errBad) {
				t.Fatalf("DecodeJSON(%q) = %v: not a bad-request error", in, err)
			}
			return
		}
		if len(bytes.TrimSpace(in)) == 0 {
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(in, &members); err != nil {
			t.Fatalf("DecodeJSON accepted %q, which is not a JSON object: %v", in, err)
		}
		for name := range members {
			if name != "key" && name != "expiry_ttl" {
				t.Fatalf("DecodeJSON accepted %q with the member %q", in, name)
			}
		}
	})
}

// FuzzDecodeForm: the form decoder never panics and accepts no unknown or
// repeated name.
func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{"room=a", "room=a&room=b", "Room=a", "room=%zz", "ttl=30&room=x%20y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := rd.DecodeForm([]byte(in), "room", "ttl")
		if err != nil {
			if !errors.Is(err, errBad) {
				t.Fatalf("DecodeForm(%q) = %v: not a bad-request error", in, err)
			}
			return
		}
		for name, vals := range v {
			if (name != "room" && name != "ttl") || len(vals) != 1 {
				t.Fatalf("DecodeForm(%q) accepted %q = %q", in, name, vals)
			}
		}
	})
}
