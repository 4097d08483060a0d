package turnkit

import (
	"errors"
	"net/http"

	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
)

// The error kinds of turnkit. Every error returned by the public types and
// the handlers wraps one of these (or is an internal failure); HTTPStatus
// maps them to status codes, and errors.Is tells them apart.
var (
	// ErrBadRequest marks invalid input: a missing or malformed field.
	ErrBadRequest = errors.New("turnkit: bad request")
	// ErrInvalidKey is returned for an API key that is unknown or revoked;
	// the two cases are indistinguishable on purpose.
	ErrInvalidKey = errors.New("turnkit: invalid API key")
	// ErrAppPaused is returned when the app is paused.
	ErrAppPaused = errors.New("turnkit: app is paused")
	// ErrAppDeleting is returned when the app is marked for deletion.
	ErrAppDeleting = errors.New("turnkit: app is marked for deletion")
	// ErrForeignGateway is returned for a gateway ID that belongs to
	// another app.
	ErrForeignGateway = errors.New("turnkit: gateway belongs to another app")
	// ErrRegionNotEnabled is returned for a region the app may not use.
	// It is the selector's sentinel, so errors.Is matches either name.
	ErrRegionNotEnabled = selector.ErrRegionNotEnabled
	// ErrInsufficientBalance is returned when an app's balance is zero or
	// negative, or below the reserve a credential needs.
	ErrInsufficientBalance = errors.New("turnkit: balance too low")
	// ErrMethodNotAllowed is returned for an HTTP method an endpoint does
	// not serve.
	ErrMethodNotAllowed = errors.New("turnkit: method not allowed")
	// ErrBodyTooLarge is returned for a request body or query over the
	// limit.
	ErrBodyTooLarge = errors.New("turnkit: request too large")
	// ErrUnsupportedMediaType is returned for a body of a content type the
	// endpoint does not take.
	ErrUnsupportedMediaType = errors.New("turnkit: unsupported media type")
	// ErrRateLimited is returned when a key, an app or a source asks
	// faster than its limit; the error is a *RateLimitError that says
	// when to retry.
	ErrRateLimited = errors.New("turnkit: rate limited")
	// ErrLimitExceeded is returned when a request would exceed a bound of
	// the exchange (addresses per namespace, namespaces per app or key).
	ErrLimitExceeded = errors.New("turnkit: limit exceeded")
	// ErrNoRelay is returned when no healthy relay can take the session.
	// It is the selector's sentinel, so errors.Is matches either name.
	ErrNoRelay = selector.ErrNoRelay
	// ErrNotFound is returned by management calls for an app, key or
	// credential that does not exist. It is the store's sentinel, so
	// errors.Is matches either name.
	ErrNotFound = store.ErrNotFound
)

// HTTPStatus returns the HTTP status code for an error returned by turnkit:
// 400 bad request, 401 invalid key, 402 balance too low, 403 paused or
// deleting app, another app's gateway or a region not enabled, 404 not
// found, 405 method not allowed, 413 request too large, 415 unsupported
// media type, 429 rate limited or over a limit, 503 no relay, and 500 for
// anything else.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrInvalidKey):
		return http.StatusUnauthorized
	case errors.Is(err, ErrInsufficientBalance):
		return http.StatusPaymentRequired
	case errors.Is(err, ErrAppPaused), errors.Is(err, ErrAppDeleting), errors.Is(err, ErrForeignGateway),
		errors.Is(err, ErrRegionNotEnabled):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrLimitExceeded):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrNoRelay):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
