package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// StaticCredential is a persistent TURN credential (Metered's labelled
// credentials) as the admin API lists it: no password, no API key.
type StaticCredential struct {
	// Username is the credential's TURN username: its identity.
	Username string
	// Label is the name people gave it.
	Label string
	// CreatedAt is when it was made; ExpiresAt when it stops opening
	// allocations (zero: never).
	CreatedAt, ExpiresAt time.Time
}

// ICEServer is one RTCIceServer.
type ICEServer struct {
	// URLs are the server's stun:, turn: or turns: URLs.
	URLs []string
	// Username and Credential authenticate to TURN URLs; empty for STUN.
	Username, Credential string
}

// NewStaticCredential is a persistent credential just made: its
// front-end API key is shown this once.
type NewStaticCredential struct {
	StaticCredential
	// APIKey fetches this credential's ICE servers from front-end code,
	// and dies with the credential.
	APIKey string
	// ICEServers are ready for an RTCPeerConnection.
	ICEServers []ICEServer
}

// StaticCredentials manages the persistent TURN credentials of apps.
type StaticCredentials interface {
	// ListStaticCredentials returns up to limit of the app's credentials
	// from the offset-th on, oldest first, and how many it has in all.
	ListStaticCredentials(ctx context.Context, appID string, offset, limit int) ([]StaticCredential, int, error)
	// CreateStaticCredential makes a credential for the app with a label;
	// a zero expiresAt means it never expires.
	CreateStaticCredential(ctx context.Context, appID, label string, expiresAt time.Time) (NewStaticCredential, error)
	// StaticICEServers returns the ICE servers of the app's credential
	// username, or an error wrapping store.ErrNotFound.
	StaticICEServers(ctx context.Context, appID, username string) (StaticCredential, []ICEServer, error)
	// DeleteStaticCredential deletes the app's credential username: the
	// relay stops accepting it. A credential of another app is not found.
	DeleteStaticCredential(ctx context.Context, appID, username string) error
}

// MaxLabelLen bounds a persistent credential's label, in bytes.
const MaxLabelLen = 64

// credentialJSON is a persistent credential.
type credentialJSON struct {
	Username   string          `json:"username"`
	Label      string          `json:"label"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  *time.Time      `json:"expires_at"`
	APIKey     string          `json:"apiKey,omitempty"`
	ICEServers []iceServerJSON `json:"iceServers,omitempty"`
}

// iceServerJSON is an RTCIceServer.
type iceServerJSON struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

func credentialOut(c StaticCredential) credentialJSON {
	return credentialJSON{Username: c.Username, Label: c.Label, CreatedAt: c.CreatedAt.UTC(), ExpiresAt: timeOrNil(c.ExpiresAt)}
}

func iceOut(s ICEServer) iceServerJSON {
	return iceServerJSON{URLs: s.URLs, Username: s.Username, Credential: s.Credential}
}

// credentials returns the backend, answering 404 when there is none.
func (h *Handler) credentials(w http.ResponseWriter) (StaticCredentials, bool) {
	if h.cfg.Credentials == nil {
		h.fail(w, fmt.Errorf("%w: persistent credentials are not served here", errNotFound))
		return nil, false
	}
	return h.cfg.Credentials, true
}

// GET apps/{app}/credentials?limit&after: a page of the app's persistent
// credentials, oldest first, without passwords.
func (h *Handler) listCredentials(w http.ResponseWriter, r *http.Request) {
	sc, ok := h.credentials(w)
	if !ok {
		return
	}
	app, p, ok := h.appList(w, r, "credentials")
	if !ok {
		return
	}
	offset := 0
	if p.after != "" {
		var err error
		if offset, err = strconv.Atoi(p.after); err != nil || offset < 0 {
			h.fail(w, fmt.Errorf("%w: after is not a cursor of this list", h.cfg.Kinds.BadRequest))
			return
		}
	}
	list, total, err := sc.ListStaticCredentials(r.Context(), app.ID, offset, p.limit)
	if err != nil {
		h.fail(w, err)
		return
	}
	next := ""
	if end := offset + len(list); end < total && len(list) > 0 {
		next = cursor("credentials", strconv.Itoa(end))
	}
	writePage(w, "credentials", mapSlice(list, credentialOut), next)
}

// credentialBody is the body of POST apps/{app}/credentials.
type credentialBody struct {
	Label     string  `json:"label"` // null is ""
	ExpiresAt *string `json:"expires_at"`
}

// POST apps/{app}/credentials {"label", "expires_at"}: a new persistent
// credential, with its front-end API key (shown this once) and its ICE
// servers (201).
func (h *Handler) createCredential(w http.ResponseWriter, r *http.Request) {
	sc, ok := h.credentials(w)
	if !ok {
		return
	}
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	var body credentialBody
	if err := h.input(w, r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if len(body.Label) > MaxLabelLen || !printable(body.Label) {
		h.fail(w, fmt.Errorf("%w: label must be UTF-8 text of at most %d bytes without control characters", h.cfg.Kinds.BadRequest, MaxLabelLen))
		return
	}
	var expires time.Time
	if body.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *body.ExpiresAt)
		if err != nil || !t.After(h.cfg.Now()) || !t.Before(maxUsageTime) {
			h.fail(w, fmt.Errorf("%w: expires_at %q must be an RFC 3339 time in the future, before 2200", h.cfg.Kinds.BadRequest, httpx.Clip(*body.ExpiresAt)))
			return
		}
		expires = t
	}
	c, err := sc.CreateStaticCredential(r.Context(), app.ID, body.Label, expires)
	if err != nil {
		h.fail(w, err)
		return
	}
	out := credentialOut(c.StaticCredential)
	out.APIKey, out.ICEServers = c.APIKey, mapSlice(c.ICEServers, iceOut)
	httpx.WriteJSON(w, http.StatusCreated, out)
}

// GET apps/{app}/credentials/{username}: the credential and its ICE
// servers array.
func (h *Handler) getCredential(w http.ResponseWriter, r *http.Request) {
	sc, ok := h.credentials(w)
	if !ok {
		return
	}
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	name := r.PathValue("username")
	c, servers, err := sc.StaticICEServers(r.Context(), app.ID, name)
	if err != nil {
		h.fail(w, noCredential(err, app.ID, name))
		return
	}
	out := credentialOut(c)
	out.ICEServers = mapSlice(servers, iceOut)
	httpx.WriteJSON(w, http.StatusOK, out)
}

// DELETE apps/{app}/credentials/{username}: deletes the credential; the
// relay refuses it from then on. It answers {"username", "deleted": true}.
func (h *Handler) deleteCredential(w http.ResponseWriter, r *http.Request) {
	sc, ok := h.credentials(w)
	if !ok {
		return
	}
	app, ok := h.appOf(w, r)
	if !ok || !h.noInput(w, r) {
		return
	}
	name := r.PathValue("username")
	if err := sc.DeleteStaticCredential(r.Context(), app.ID, name); err != nil {
		h.fail(w, noCredential(err, app.ID, name))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"username": name, "deleted": true})
}

// noCredential returns err, or, when it says a record does not exist, a
// not-found error naming the app and the credential.
func noCredential(err error, appID, username string) error {
	return notFoundAs(err, "app %q has no persistent credential %q", httpx.Clip(appID), httpx.Clip(username))
}
