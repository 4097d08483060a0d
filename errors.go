package turnkit

import (
	"errors"
	"net/http"

	"github.com/turnkit/turnkit/store"
)

// The error kinds of turnkit. Errors returned by the Kit, the Issuer and the
// handlers wrap one of these; HTTPStatus maps them to status codes.
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
	// ErrMethodNotAllowed is returned for an HTTP method an endpoint does not
	// serve.
	ErrMethodNotAllowed = errors.New("turnkit: method not allowed")
	// ErrBodyTooLarge is returned for a request body over the limit.
	ErrBodyTooLarge = errors.New("turnkit: request body too large")
	// ErrNoRelay is returned when no healthy relay can take the session.
	ErrNoRelay = errors.New("turnkit: no healthy relay available")
	// ErrNotFound is returned by management calls for an app or key that
	// does not exist. It is the store's sentinel, so errors.Is matches
	// either name.
	ErrNotFound = store.ErrNotFound
)

// HTTPStatus returns the HTTP status code for an error returned by turnkit:
// 400 bad request, 401 invalid key, 402 balance too low, 403 paused or deleting app or another app's gateway, 404 not
// found, 405 method not allowed, 413 body too large, 429 rate limited, 503 no relay, and 500
// for anything else.
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
	case errors.Is(err, ErrAppPaused), errors.Is(err, ErrAppDeleting), errors.Is(err, ErrForeignGateway):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrLimitExceeded):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrNoRelay):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
