package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// static holds the page: plain HTML, CSS and JavaScript, no build step.
//
//go:embed static
var static embed.FS

// maxICEBody bounds the body of POST /api/ice.
const maxICEBody = 1024

// server is the web app's own routes around an embedded Kit.
type server struct {
	kit   *turnkit.Kit
	appID string        // the app the page's credentials are for
	relay *relay.Server // the in-process relay, for its meter; nil without one
	log   *slog.Logger
}

// newServer returns the routes' server. rel may be nil (the Kit relays
// elsewhere); log receives the errors the page is not told the details of.
func newServer(kit *turnkit.Kit, appID string, rel *relay.Server, log *slog.Logger) *server {
	return &server{kit: kit, appID: appID, relay: rel, log: log}
}

// routes returns the web app's handler: the page at /, the backend routes
// under /api/, and turnkit's own HTTP API under /v1/ next to them (for
// clients that hold an API key; the page does not use it).
func (s *server) routes() http.Handler {
	page, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(page)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeDetail(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		// The page loads only its own files and talks only to this origin
		// (WebRTC traffic is not subject to connect-src).
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("/api/ice", s.serveICE)
	mux.HandleFunc("/api/relay", s.serveRelay)
	mux.Handle("/v1/", s.kit.Handler())
	return mux
}

// iceRequest is the body of POST /api/ice.
type iceRequest struct {
	// Transport keeps only the TURN URLs of one transport: "udp" or
	// "tcp" (turns: URLs count as TCP). Empty keeps them all.
	Transport string `json:"transport"`
}

// iceServer is one RTCIceServer.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
}

// iceResponse is the answer of POST /api/ice: an RTCConfiguration's
// iceServers, and the credential's lifetime in seconds.
type iceResponse struct {
	IceServers []iceServer `json:"iceServers"`
	TTL        int64       `json:"ttl"`
	Region     string      `json:"region"`
}

// serveICE mints a TURN credential for the page with the Kit's Issuer, in
// Go: the page sends no API key and sees none. The app's issuance rate
// limit applies (429 past it). A real app checks its own user session here
// before it hands out relay capacity.
func (s *server) serveICE(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeDetail(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	// Requiring JSON makes a cross-site form post fail (it cannot set this
	// content type without a CORS preflight, which this server never
	// grants).
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeDetail(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
		return
	}
	var req iceRequest
	if status, err := decodeStrict(w, r, &req); err != nil {
		writeDetail(w, status, err.Error())
		return
	}
	if req.Transport != "" && req.Transport != "udp" && req.Transport != "tcp" {
		writeDetail(w, http.StatusBadRequest, fmt.Sprintf("transport %q must be \"udp\", \"tcp\" or empty", clip(req.Transport)))
		return
	}
	cred, err := s.kit.Issuer().Issue(r.Context(), &turnkit.CredentialRequest{AppID: s.appID, RateLimit: true})
	if err != nil {
		s.issueFailed(w, err)
		return
	}
	urls := filterURLs(cred.URLs, req.Transport)
	if len(urls) == 0 {
		writeDetail(w, http.StatusServiceUnavailable, fmt.Sprintf("the relay has no TURN URL over %s", req.Transport))
		return
	}
	writeJSONResponse(w, http.StatusOK, iceResponse{
		IceServers: []iceServer{{URLs: urls, Username: cred.Username, Credential: cred.Password}},
		TTL:        int64(cred.TTL.Seconds()),
		Region:     cred.Region,
	})
}

// issueFailed answers an Issuer error. The page named no app, so a paused
// or unknown app is this server's problem: 503, like no relay.
func (s *server) issueFailed(w http.ResponseWriter, err error) {
	var rl *turnkit.RateLimitError
	switch status := turnkit.HTTPStatus(err); {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(rl.RetryAfter.Seconds()+0.999))))
		writeDetail(w, http.StatusTooManyRequests, "too many credential requests; retry later")
	case status == http.StatusPaymentRequired:
		writeDetail(w, status, "the demo app's balance is too low")
	default:
		s.log.Error("issue a TURN credential", "err", err)
		writeDetail(w, http.StatusServiceUnavailable, "no TURN credential available now")
	}
}

// filterURLs keeps the turn: and turns: URLs for transport ("udp", "tcp",
// or "" for both). A turn: URL without ?transport= is UDP (RFC 7065);
// turns: runs over TCP. stun: URLs are dropped: the page relays only.
func filterURLs(urls []string, transport string) []string {
	var out []string
	for _, raw := range urls {
		scheme, rest, ok := strings.Cut(raw, ":")
		if !ok || (scheme != "turn" && scheme != "turns") {
			continue
		}
		t := "udp"
		if scheme == "turns" {
			t = "tcp"
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			q, err := url.ParseQuery(query)
			if err != nil {
				continue
			}
			if v := q.Get("transport"); v != "" {
				t = v
			}
		}
		if transport == "" || t == transport {
			out = append(out, raw)
		}
	}
	return out
}

// relayResponse is the answer of GET /api/relay: the in-process relay's
// meter, so the page can show what the relay itself counted.
type relayResponse struct {
	// InProcess is false when the Kit relays elsewhere; the rest is zero.
	InProcess bool `json:"inProcess"`
	// Allocations is the number of live allocations.
	Allocations int `json:"allocations"`
	// RelayedBytes is the payload relayed since the relay started, both
	// ways.
	RelayedBytes int64 `json:"relayedBytes"`
	// PeerRefused counts permissions and packets the peer rules refused.
	PeerRefused uint64 `json:"peerRefused"`
}

// serveRelay answers the in-process relay's live allocations, metered
// bytes and refused peers; without one, inProcess is false.
func (s *server) serveRelay(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeDetail(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	var res relayResponse
	if s.relay != nil {
		st := s.relay.Stats()
		res = relayResponse{InProcess: true, Allocations: st.Allocations, RelayedBytes: st.RelayedBytes, PeerRefused: st.PeerRefused}
	}
	writeJSONResponse(w, http.StatusOK, res)
}

// decodeStrict reads a JSON object of at most maxICEBody bytes into v:
// unknown fields, wrong types and trailing data are 400, a larger body 413.
// An empty body is {}.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxICEBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, fmt.Errorf("body is over %d bytes", maxICEBody)
		}
		return http.StatusBadRequest, fmt.Errorf("reading the body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return http.StatusBadRequest, fmt.Errorf("invalid JSON body: field %q must be a %s, not a %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return http.StatusBadRequest, fmt.Errorf("invalid JSON body: %s", clip(strings.TrimPrefix(err.Error(), "json: ")))
	}
	if _, err := dec.Token(); err != io.EOF {
		return http.StatusBadRequest, errors.New("invalid JSON body: data after the JSON object")
	}
	return 0, nil
}

// writeJSONResponse writes v as JSON; the answers carry credentials or live
// counts, so they are never cached.
func writeJSONResponse(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeDetail writes an error as {"detail": "…"}, as turnkit's API does.
func writeDetail(w http.ResponseWriter, status int, detail string) {
	writeJSONResponse(w, status, map[string]string{"detail": detail})
}

// clip shortens user input quoted back in an error.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
