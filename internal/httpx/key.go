package httpx

import (
	"net/http"
	"strings"
)

// Bearer returns the token of an "Authorization: Bearer" header, and
// whether the request has an Authorization header at all (a header in
// another scheme has ok true and an empty token). The scheme is matched
// without regard to case, as RFC 9110 says.
func Bearer(r *http.Request) (token string, ok bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", false
	}
	if len(vals) > 1 {
		return "", true
	}
	scheme, rest, found := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(rest), true
}
