package compat

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// BatonDefaultTTL is the lifetime of a Baton credential whose request
// names no ttl, as Baton documents it.
const BatonDefaultTTL = time.Hour

// Baton serves Baton's POST /v1/credentials: "Authorization: Bearer <API
// key>" and a JSON body {"ttl": seconds (default 3600), "region": slug}.
// The region, if any, is where the relay must be: a slug the alias table
// does not know is a 400, one whose regions the app may not use a 403,
// one without a healthy relay a 503.
//
// The native POST /v1/credentials takes the key in its body, on the same
// path: turnkit's credentials handler hands every request that carries an
// Authorization header to this one, which refuses one that also has "key"
// in its body (400), since the two forms count TTLs differently (seconds
// here, minutes there).
//
// The answer is {"username", "credential", "ttl", "region", "iceServers":
// [{"urls": [stun, turn…?transport=udp, turn…?transport=tcp, turns…],
// "username", "credential"}]}, region being the slug the request named (or,
// without one, the chosen relay's region). Errors are {"error": "…"}.
type Baton struct {
	h handler
}

// NewBaton returns the Baton handler. cfg.Issuer, Errors and Kinds are
// required.
func NewBaton(cfg Config) (*Baton, error) {
	h, err := newHandler(cfg, "baton", true, false)
	if err != nil {
		return nil, err
	}
	return &Baton{h: h}, nil
}

// batonBody is the JSON body of Baton's POST /v1/credentials. Key is the
// native form's member, there to be refused with a clear answer.
type batonBody struct {
	TTL    json.RawMessage `json:"ttl"`
	Region string          `json:"region"`
	Key    json.RawMessage `json:"key"`
}

// batonResponse is the answer of Baton's POST /v1/credentials.
type batonResponse struct {
	Username   string      `json:"username"`
	Credential string      `json:"credential"`
	TTL        int64       `json:"ttl"`
	Region     string      `json:"region"`
	IceServers []iceServer `json:"iceServers"`
}

// ServeHTTP answers one credential request.
func (b *Baton) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := &b.h
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
		fail(err)
		return
	}
	var body batonBody
	if err := h.rd.JSON(w, r, &body); err != nil {
		fail(err)
		return
	}
	if len(body.Key) > 0 {
		fail(h.badRequest("the API key is given twice, in Authorization: Bearer and as \"key\" in the body: " +
			"send it in the header (the Baton form, ttl in seconds) or in the body (the native form, expiry_ttl in minutes), not both"))
		return
	}
	ttl, ok := jsonSeconds(body.TTL)
	if !ok {
		fail(h.badRequest("ttl must be a whole number of seconds from 1 to %d", maxSeconds))
		return
	}
	if ttl == 0 {
		ttl = BatonDefaultTTL
	}
	fixed, err := h.resolveRegion("region", body.Region)
	if err != nil {
		fail(err)
		return
	}
	cred, err := h.issue(r, key, Request{TTL: ttl, HostIP: h.cfg.ClientIP(r), Regions: Regions{Fixed: fixed}})
	if err != nil {
		fail(err)
		return
	}
	region := cred.Region
	if fixed != nil {
		region = body.Region // the relay is in one of the slug's regions: echo the client's name for it
	}
	httpx.WriteJSON(w, http.StatusOK, batonResponse{
		Username:   cred.Username,
		Credential: cred.Password,
		TTL:        int64(cred.TTL / time.Second),
		Region:     region,
		IceServers: []iceServer{{URLs: cred.URLs, Username: cred.Username, Credential: cred.Password}},
	})
}
