package compat

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// TurnixDefaultTTL is the lifetime of a Turnix credential whose request
// names no ttl, as Turnix documents it.
const TurnixDefaultTTL = 30 * time.Second

// TurnixClientIPHeader is the header in which a Turnix caller forwards
// its client's address, for relay choice.
const TurnixClientIPHeader = "X-TURN-CLIENT-IP"

// Turnix serves Turnix's POST /credentials/ice. It needs no router: mount
// it at any path (turnkit's Kit.Handler mounts it at /credentials/ice and
// /api/v1/credentials/ice, the vendor's base URL and path).
//
// The request carries "Authorization: Bearer <API key>" and optionally a
// body of JSON or a form (see parseTurnixBody for why either is read
// whatever the Content-Type) with ttl (seconds, default 30), fixed_region
// (only relays there; 503 when none is healthy), preferred_region (spelt
// preffered_region too, as in the vendor's examples; falls back to the
// nearest relay), and initiator_client, receiver_client and room, which
// are recorded on the session. X-TURN-CLIENT-IP, if present, is the
// address the relay is chosen by, instead of the caller's; it is never
// stored or logged.
//
// The answer is {"iceServers": [{"urls": [stun…]}, {"username",
// "credential", "urls": [turn…?transport=udp, turn…?transport=tcp,
// turns…]}]}. Errors are {"error": "…"} with the status turnkit gives the
// error: 400, 401 (missing or unknown token), 402, 403, 405, 413, 415,
// 429, 503.
type Turnix struct {
	h handler
}

// NewTurnix returns the Turnix handler. cfg.Issuer, Errors and Kinds are
// required.
func NewTurnix(cfg Config) (*Turnix, error) {
	h, err := newHandler(cfg, "turnix", true, false)
	if err != nil {
		return nil, err
	}
	return &Turnix{h: h}, nil
}

// turnixResponse is the answer of POST /credentials/ice.
type turnixResponse struct {
	IceServers []iceServer `json:"iceServers"`
}

// ServeHTTP answers one credential request.
func (t *Turnix) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := &t.h
	fail := func(err error) { h.fail(w, err, errorBody, http.MethodPost) }
	if r.Method != http.MethodPost {
		fail(h.methodNotAllowed("POST"))
		return
	}
	key, err := h.bearer(r)
	if err != nil {
		fail(err)
		return
	}
	if _, err := h.rd.Query(r); err != nil {
		fail(fmt.Errorf("%w (the parameters go in the body)", err))
		return
	}
	mt, err := httpx.MediaType(r)
	if err != nil {
		fail(h.badRequest("malformed Content-Type"))
		return
	}
	if !isTurnixMedia(mt) {
		fail(fmt.Errorf("%w: Content-Type %q: send JSON or a form", h.cfg.Kinds.UnsupportedMedia, httpx.Clip(mt)))
		return
	}
	body, err := h.rd.Body(w, r)
	if err != nil {
		fail(err)
		return
	}
	p, err := parseTurnixBody(h.rd, body)
	if err != nil {
		fail(err)
		return
	}
	host, err := h.turnixHostIP(r)
	if err != nil {
		fail(err)
		return
	}
	var regions Regions
	if regions.Fixed, err = h.resolveRegion("fixed_region", p.FixedRegion); err != nil {
		fail(err)
		return
	}
	if regions.Preferred, err = h.resolveRegion("preferred_region", p.PreferredRegion); err != nil {
		fail(err)
		return
	}
	ttl := p.TTL
	if ttl == 0 {
		ttl = TurnixDefaultTTL
	}
	cred, err := h.issue(r, key, Request{TTL: ttl, HostIP: host, Regions: regions, Metadata: p.Metadata})
	if err != nil {
		fail(err)
		return
	}
	stun, turn := splitURLs(cred.URLs)
	servers := make([]iceServer, 0, 2)
	if len(stun) > 0 {
		servers = append(servers, iceServer{URLs: stun})
	}
	servers = append(servers, iceServer{URLs: turn, Username: cred.Username, Credential: cred.Password})
	httpx.WriteJSON(w, http.StatusOK, turnixResponse{IceServers: servers})
}

// turnixHostIP returns the address to choose the relay by: the one in
// X-TURN-CLIENT-IP, else the request's client's.
func (h *handler) turnixHostIP(r *http.Request) (netip.Addr, error) {
	vals := r.Header.Values(TurnixClientIPHeader)
	if len(vals) == 0 {
		return h.cfg.ClientIP(r), nil
	}
	if len(vals) > 1 {
		return netip.Addr{}, h.badRequest("%s is given %d times", TurnixClientIPHeader, len(vals))
	}
	ip, err := netip.ParseAddr(vals[0])
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, h.badRequest("%s %q is not an IP address", TurnixClientIPHeader, httpx.Clip(vals[0]))
	}
	return ip.Unmap(), nil
}
