package compat

import (
	"errors"
	"net/http"
	"strings"

	"github.com/turnkit/turnkit/internal/httpx"
)

// Metered serves Metered's TURN credential API. It routes by the end of
// the path, so it can be mounted under any prefix (turnkit's Kit.Handler
// mounts it under /api/v1/turn/, the vendor's own paths):
//
//	GET    …/credentials?apiKey=K[&region=R]   the ICE servers of the credential whose front-end key is K
//	GET    …/credentials?secretKey=S[&page=N][&label=L][&all]   the app's persistent credentials
//	POST   …/credential?secretKey=S            create one: {"label": …, "expiryInSeconds": …}
//	DELETE …/credential?secretKey=S            delete one: {"username": …} (or &username=)
//	DELETE …/credential/by_label?secretKey=S&label=L   delete every one with the label
//
// The secretKey is the app's API key, a server-side secret; the apiKey of
// a credential is safe in front-end code, fetches only that credential's
// ICE servers, and dies with it. The region, if any, is where the relay
// must be (Metered pins traffic to it): a slug the alias table does not
// know is a 400, one without a healthy relay a 503.
//
// The ICE servers are an array of {"urls": "…"} entries, one URL each: the
// stun: URL, then turn:…?transport=udp, turn:…?transport=tcp and, where the
// relay has TLS, turns:…?transport=tcp, each with "username" and
// "credential". Its errors are Metered's: 400 {"error": "Please specify API
// Key"}, 401 {"error": "Invalid API Key"}, and {"error": "…"} for the
// others (400 unknown region, 402, 403, 405, 413, 429, 503). Its answers
// carry "Access-Control-Allow-Origin: *", since front-end code on another
// origin calls it; the management endpoints' do not.
//
// The management endpoints answer as Metered's do: creation {"username",
// "password", "apiKey", "label", "expiryInSeconds"}; a listing {"data":
// [{"username", "password", "label", "expiryInSeconds", "expired",
// "created"}], "pagination": {"total_records", "current_page",
// "total_pages", "next_page", "prev_page"}}, 50 a page, expired ones only
// with all (the front-end keys are never listed: only their hashes are
// kept); a deletion {"success": true, "message": "credential removed"}, or
// 400 when the username is not the app's; a deletion by label {"deleted":
// n}. Their errors are {"error": "…", "message": "…"} with the same text:
// 400 {"error": "Please specify secret key"}, 401 {"error": "Invalid secret
// key"}, and the others.
type Metered struct {
	h handler
}

// NewMetered returns the Metered handler. cfg.Issuer (which authenticates
// the secretKey), Static, Errors and Kinds are required.
func NewMetered(cfg Config) (*Metered, error) {
	h, err := newHandler(cfg, "metered", true, true)
	if err != nil {
		return nil, err
	}
	return &Metered{h: h}, nil
}

// Metered's fixed error texts.
const (
	meteredNoAPIKey      = "Please specify API Key"
	meteredBadAPIKey     = "Invalid API Key"
	meteredNoSecretKey   = "Please specify secret key"
	meteredBadSecretKey  = "Invalid secret key"
	meteredNoSuchUser    = "credential of the specified username is not found"
	meteredNeedsUsername = "username is required, please provide the username of the credential to be removed in the request body"
)

// meteredICEError is the error body of the ICE-server fetch.
func meteredICEError(status int, detail string) any {
	if status == http.StatusUnauthorized {
		detail = meteredBadAPIKey
	}
	return map[string]string{"error": detail}
}

// meteredManageError is the error body of the management endpoints.
func meteredManageError(status int, detail string) any {
	if status == http.StatusUnauthorized {
		detail = meteredBadSecretKey
	}
	return map[string]string{"error": detail, "message": detail}
}

// fixedText makes an error body whose text is fixed, in the shape of
// another.
func fixedText(text string, shape func(int, string) any) func(int, string) any {
	return func(status int, _ string) any { return shape(status, text) }
}

// ServeHTTP routes a request by the end of its path.
func (m *Metered) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(p, "/credential/by_label"):
		m.serveByLabel(w, r)
	case strings.HasSuffix(p, "/credentials"):
		m.serveCredentials(w, r)
	case strings.HasSuffix(p, "/credential"):
		m.serveCredential(w, r)
	default:
		httpx.WriteJSON(w, http.StatusNotFound, meteredManageError(http.StatusNotFound, "no such endpoint"))
	}
}

// serveCredentials serves GET …/credentials: the ICE servers of a
// credential with apiKey, the app's credentials with secretKey.
func (m *Metered) serveCredentials(w http.ResponseWriter, r *http.Request) {
	h := &m.h
	if r.Method == http.MethodOptions {
		// The CORS preflight of a front-end fetch that adds headers.
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Allow-Methods", "GET")
		hd.Set("Access-Control-Allow-Headers", "Content-Type")
		hd.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.fail(w, h.methodNotAllowed("GET"), meteredICEError, http.MethodGet, http.MethodOptions)
		return
	}
	q, err := parseMeteredQuery(h.rd, r.URL.RawQuery, "apiKey", "secretKey", "region", "page", "label", "all")
	if err != nil {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.fail(w, err, meteredICEError)
		return
	}
	if q.SecretKey != "" {
		if q.APIKey != "" {
			h.fail(w, h.badRequest("give apiKey (a credential's ICE servers) or secretKey (the app's credentials), not both"), meteredManageError)
			return
		}
		if q.Region != "" {
			h.fail(w, h.badRequest("region is for fetching ICE servers with an apiKey, not for listing credentials"), meteredManageError)
			return
		}
		m.list(w, r, q)
		return
	}
	m.iceServers(w, r, q)
}

// errNoKey marks a request without the key it needs; its answer has a
// fixed text.
var errNoKey = errors.New("no key given")
