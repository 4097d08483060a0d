package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Errors are the error kinds the package's functions wrap. The zero value
// wraps nothing (errors are plain); callers set every field.
type Errors struct {
	// BadRequest marks malformed input.
	BadRequest error
	// TooLarge marks a body or query over the limit.
	TooLarge error
	// UnsupportedMedia marks a body of a content type the endpoint does
	// not take.
	UnsupportedMedia error
}

// Reader reads request bodies and queries. Its zero value is not useful:
// set Limit and Errors.
type Reader struct {
	// Limit bounds a body, and separately the query string, in bytes.
	Limit int64
	// Errors are the kinds to wrap.
	Errors Errors
}

func (rd Reader) wrap(kind error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if kind == nil {
		return errors.New(msg)
	}
	return fmt.Errorf("%w: %s", kind, msg)
}

// Body reads the whole body, at most Limit bytes.
func (rd Reader) Body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rd.Limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, rd.wrap(rd.Errors.TooLarge, "body is over %d bytes", rd.Limit)
		}
		return nil, rd.wrap(rd.Errors.BadRequest, "reading body: %v", err)
	}
	return body, nil
}

// Query parses the query string, refusing one over Limit bytes, one that
// does not parse and one that repeats a parameter or names one not in
// fields (names match exactly).
func (rd Reader) Query(r *http.Request, fields ...string) (url.Values, error) {
	if int64(len(r.URL.RawQuery)) > rd.Limit {
		return nil, rd.wrap(rd.Errors.TooLarge, "query string is over %d bytes", rd.Limit)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, rd.wrap(rd.Errors.BadRequest, "malformed query string")
	}
	if err := rd.checkValues("query parameter", q, fields); err != nil {
		return nil, err
	}
	return q, nil
}

func (rd Reader) checkValues(what string, v url.Values, fields []string) error {
	for name, vals := range v {
		if !slices.Contains(fields, name) {
			return rd.wrap(rd.Errors.BadRequest, "unknown %s %q", what, Clip(name))
		}
		if len(vals) > 1 {
			return rd.wrap(rd.Errors.BadRequest, "%s %q is given %d times", what, name, len(vals))
		}
	}
	return nil
}

// MediaType returns the request's media type, lowercased, without
// parameters; "" when the request has no Content-Type.
func MediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", err
	}
	return mt, nil
}

// IsJSON reports whether a media type is JSON: application/json or a
// +json type.
func IsJSON(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

// JSON reads a body of JSON media type (or of none) and decodes it
// strictly into v, a pointer to a struct: the body must be one JSON object
// whose member names are exactly the struct's json tag names (case
// matters), each at most once, with values of the fields' types and
// nothing after it. An empty body decodes as {}.
func (rd Reader) JSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, err := MediaType(r)
	if err != nil {
		return rd.wrap(rd.Errors.BadRequest, "malformed Content-Type")
	}
	if mt != "" && !IsJSON(mt) {
		return rd.wrap(rd.Errors.UnsupportedMedia, "Content-Type %q is not JSON: send application/json", Clip(mt))
	}
	body, err := rd.Body(w, r)
	if err != nil {
		return err
	}
	return rd.DecodeJSON(body, v)
}

// DecodeJSON decodes body strictly into v, as JSON does.
func (rd Reader) DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := rd.checkMembers(body, jsonFields(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: data after the JSON object")
	}
	return nil
}

// checkMembers walks the top-level object of body and refuses a member
// name that is not exactly one of fields, or that repeats.
func (rd Reader) checkMembers(body []byte, fields []string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: %s", jsonErrorText(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: not a JSON object")
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: %s", jsonErrorText(err))
		}
		name, _ := tok.(string)
		if !slices.Contains(fields, name) {
			return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: unknown field %q", Clip(name))
		}
		if seen[name] {
			return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: field %q is given twice", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return rd.wrap(rd.Errors.BadRequest, "invalid JSON body: %s", jsonErrorText(err))
		}
	}
	return nil
}

// DecodeForm parses an application/x-www-form-urlencoded body (read with
// Body): every name must be one of fields, each given once.
func (rd Reader) DecodeForm(body []byte, fields ...string) (url.Values, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, rd.wrap(rd.Errors.BadRequest, "malformed form body")
	}
	if err := rd.checkValues("form field", v, fields); err != nil {
		return nil, err
	}
	return v, nil
}

// jsonFields returns the JSON member names of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// jsonErrorText describes a decoding error without echoing large inputs.
func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q must be a %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return Clip(strings.TrimPrefix(err.Error(), "json: "))
}

// Clip shortens user input quoted back in an error message to 40 bytes
// (on a UTF-8 boundary), so that answers stay small.
func Clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
