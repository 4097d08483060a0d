package turnkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// readJSON reads a request body of at most limit bytes and decodes it
// strictly into v: unknown fields, trailing data and wrong types are
// ErrBadRequest; an oversized body is ErrBodyTooLarge. An empty body
// decodes as {}.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("%w: body is over %d bytes", ErrBodyTooLarge, limit)
		}
		return fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: invalid JSON body: %s", ErrBadRequest, jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: invalid JSON body: data after the JSON object", ErrBadRequest)
	}
	return nil
}

// jsonErrorText describes a decoding error without echoing large inputs.
func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q must be a %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return msg
}

// writeJSON writes v with the given status. Responses are never cached:
// they carry credentials or per-request data.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err as {"detail": "..."} with the status HTTPStatus
// gives. Server errors are logged without request data and answered with a
// generic detail.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	status := HTTPStatus(err)
	detail := strings.TrimPrefix(err.Error(), "turnkit: ")
	if status >= 500 && status != http.StatusServiceUnavailable {
		log.Error("request failed", "err", err)
		detail = "internal error"
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	var limited *RateLimitError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(limited.retryAfterSeconds()))
	}
	writeJSON(w, status, map[string]string{"detail": detail})
}
