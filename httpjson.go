package turnkit

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/turnkit/turnkit/internal/httpx"
)

// newReader returns the strict body reader of the handlers, wrapping
// turnkit's error kinds.
func newReader(limit int64) httpx.Reader {
	return httpx.Reader{Limit: limit, Errors: httpx.Errors{
		BadRequest: ErrBadRequest, TooLarge: ErrBodyTooLarge, UnsupportedMedia: ErrUnsupportedMediaType,
	}}
}

// ErrorDetail returns the text of err for an error body: the message
// without turnkit's prefix, or "internal error" for a failure that is not
// the client's (logged instead).
func ErrorDetail(err error) string {
	status := HTTPStatus(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		return "internal error"
	}
	return strings.TrimPrefix(err.Error(), "turnkit: ")
}

// WriteErrorHeaders sets the headers an error answer needs: Allow for 405,
// Retry-After for 429. It is for vendor-shaped handlers that write their
// own bodies.
func WriteErrorHeaders(w http.ResponseWriter, err error, allow ...string) {
	if HTTPStatus(err) == http.StatusMethodNotAllowed && len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	var limited *RateLimitError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(limited.retryAfterSeconds()))
	}
}

// writeError writes err as {"detail": "..."} with the status HTTPStatus
// gives. Server errors are logged without request data and answered with a
// generic detail.
func (k *Kit) writeError(w http.ResponseWriter, err error) {
	logServerError(k.log, err)
	WriteErrorHeaders(w, err, http.MethodPost)
	httpx.WriteJSON(w, HTTPStatus(err), map[string]string{"detail": ErrorDetail(err)})
}

// logServerError logs an error that is the server's fault.
func logServerError(log *slog.Logger, err error) {
	if s := HTTPStatus(err); s >= 500 && s != http.StatusServiceUnavailable {
		log.Error("request failed", "err", err)
	}
}

// clientIP returns the client address of r, for relay choice and limits.
func (k *Kit) clientIP(r *http.Request) netip.Addr { return k.cfg.ClientIP(r) }
