// Package httpx is what every turnkit HTTP handler needs, whatever the
// shape of its API (native, Turnix, Metered, Baton): bodies read within a
// size limit and decoded strictly, the API key taken from the one place a
// request carries it, and JSON answers that are never cached.
//
// The package holds no error kinds of its own: the caller passes its
// sentinels in Errors, so that the one map from error kind to HTTP status
// stays with the caller.
package httpx
