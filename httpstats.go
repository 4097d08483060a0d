package turnkit

import (
	"net/http"
	"strings"

	"github.com/turnkit/turnkit/internal/httpx"
)

// CountRequests returns h counting its answers in the Kit's Stats under
// endpoint, by status code: for a handler of the Kit mounted on its own
// (TurnixHandler, MeteredHandler, BatonHandler) that Handler would
// otherwise count. CredentialsHandler and ExchangeHandler count
// themselves, and Handler counts the vendor-shaped endpoints it mounts: do
// not wrap those again. An endpoint outside the Endpoint constants is
// counted as EndpointOther.
func (k *Kit) CountRequests(endpoint Endpoint, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.serveCounted(endpoint, h, w, r)
	})
}

// serveCounted serves r with h and counts the status it is answered
// with, before the status reaches the client (so a client that has its
// answer finds it counted): 200 for a handler that writes a body without
// a status or writes nothing, as net/http answers.
func (k *Kit) serveCounted(endpoint Endpoint, h http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, stats: &k.stats, endpoint: endpoint}
	h.ServeHTTP(rec, r)
	rec.count(http.StatusOK)
}

// countCredentials counts POST /v1/credentials: as Baton's when the
// request carries a Bearer key and the Kit serves that form, as native
// otherwise.
func (k *Kit) countCredentials(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep := EndpointNative
		if _, ok := httpx.Bearer(r); ok && k.bearer != nil {
			ep = EndpointBaton
		}
		k.serveCounted(ep, h, w, r)
	})
}

// countVendors serves the vendor-shaped endpoints mounted on mux,
// counting each request under the endpoint its pattern belongs to (see
// vendorEndpoint). Paths mux does not serve are answered by it (404) and
// not counted.
func (k *Kit) countVendors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			k.serveCounted(vendorEndpoint(pattern), mux, w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// vendorEndpoint returns the endpoint of a vendor-shaped handler's mux
// pattern: Turnix's .../credentials/ice, Metered's /api/v1/turn/...;
// EndpointOther for any other.
func vendorEndpoint(pattern string) Endpoint {
	switch {
	case strings.HasSuffix(pattern, "/credentials/ice"):
		return EndpointTurnix
	case strings.HasPrefix(pattern, "/api/v1/turn/"):
		return EndpointMetered
	}
	return EndpointOther
}

// statusRecorder counts the first final status a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	stats    *kitStats
	endpoint Endpoint
	counted  bool
}

// count counts code, once per request.
func (s *statusRecorder) count(code int) {
	if !s.counted {
		s.counted = true
		s.stats.request(s.endpoint, code)
	}
}

// WriteHeader counts the first status of 200 or above and writes it.
func (s *statusRecorder) WriteHeader(code int) {
	if code >= 200 {
		s.count(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write counts 200 if no status was written, and writes b.
func (s *statusRecorder) Write(b []byte) (int, error) {
	s.count(http.StatusOK)
	return s.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
