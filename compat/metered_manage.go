package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/store"
)

// meteredPageSize is how many credentials a page of a listing holds, as
// Metered's.
const meteredPageSize = 50

// meteredCreated answers a creation.
type meteredCreated struct {
	Username        string `json:"username"`
	Password        string `json:"password"`
	APIKey          string `json:"apiKey"`
	Label           string `json:"label"`
	ExpiryInSeconds *int64 `json:"expiryInSeconds,omitempty"`
}

// meteredListed is one credential of a listing.
type meteredListed struct {
	Username        string `json:"username"`
	Password        string `json:"password"`
	Label           string `json:"label"`
	ExpiryInSeconds *int64 `json:"expiryInSeconds,omitempty"`
	Expired         bool   `json:"expired"`
	Created         string `json:"created"`
}

// meteredList answers a listing.
type meteredList struct {
	Data       []meteredListed   `json:"data"`
	Pagination meteredPagination `json:"pagination"`
}

// meteredPagination locates a page of a listing; the neighbours are null
// where there is none.
type meteredPagination struct {
	TotalRecords int  `json:"total_records"`
	CurrentPage  int  `json:"current_page"`
	TotalPages   int  `json:"total_pages"`
	NextPage     *int `json:"next_page"`
	PrevPage     *int `json:"prev_page"`
}

// expirySeconds is a credential's lifetime in seconds, nil for one that
// never expires.
func expirySeconds(c StaticCredential) *int64 {
	if c.ExpiresAt.IsZero() {
		return nil
	}
	n := int64(c.ExpiresAt.Sub(c.CreatedAt) / time.Second)
	return &n
}

// authenticateSecret authenticates the secretKey of a management request:
// an empty one gets Metered's "Please specify secret key". On failure it
// has answered.
func (m *Metered) authenticateSecret(w http.ResponseWriter, r *http.Request, secret string) (Caller, bool) {
	h := &m.h
	if secret == "" {
		h.fail(w, fmt.Errorf("%w: %w", h.cfg.Kinds.BadRequest, errNoKey), fixedText(meteredNoSecretKey, meteredManageError))
		return Caller{}, false
	}
	caller, err := h.cfg.Issuer.Authenticate(r.Context(), secret, h.cfg.ClientIP(r))
	if err != nil {
		h.fail(w, err, meteredManageError)
		return Caller{}, false
	}
	return caller, true
}

// list answers GET …/credentials?secretKey=…: a page of the app's
// credentials.
func (m *Metered) list(w http.ResponseWriter, r *http.Request, q meteredQuery) {
	h := &m.h
	caller, ok := m.authenticateSecret(w, r, q.SecretKey)
	if !ok {
		return
	}
	page := max(q.Page, 1)
	creds, total, err := h.cfg.Static.ListStatic(r.Context(), &StaticQuery{
		AppID: caller.AppID, Label: q.Label, All: q.All, Offset: (page - 1) * meteredPageSize, Limit: meteredPageSize,
	})
	if err != nil {
		h.fail(w, err, meteredManageError)
		return
	}
	out := meteredList{Data: make([]meteredListed, 0, len(creds))}
	for _, c := range creds {
		out.Data = append(out.Data, meteredListed{
			Username: c.Username, Password: c.Password, Label: c.Label, ExpiryInSeconds: expirySeconds(c),
			Expired: c.Expired, Created: c.CreatedAt.UTC().Format(time.RFC3339),
		})
	}
	pages := (total + meteredPageSize - 1) / meteredPageSize
	out.Pagination = meteredPagination{TotalRecords: total, CurrentPage: page, TotalPages: pages}
	if page < pages {
		next := page + 1
		out.Pagination.NextPage = &next
	}
	if page > 1 {
		prev := min(page-1, max(pages, 1))
		out.Pagination.PrevPage = &prev
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// meteredCreateBody is the body of POST …/credential.
type meteredCreateBody struct {
	Label           string          `json:"label"`
	ExpiryInSeconds json.RawMessage `json:"expiryInSeconds"`
}

// serveCredential serves POST …/credential (create) and DELETE
// …/credential (delete by username).
func (m *Metered) serveCredential(w http.ResponseWriter, r *http.Request) {
	h := &m.h
	switch r.Method {
	case http.MethodPost:
		m.create(w, r)
	case http.MethodDelete:
		m.deleteBy(w, r, "username", func(ctx context.Context, appID, username string) (any, error) {
			n, err := h.cfg.Static.DeleteStatic(ctx, appID, store.StaticMatch{Username: username})
			if err == nil && n == 0 {
				err = h.badRequest(meteredNoSuchUser)
			}
			return map[string]any{"success": true, "message": "credential removed"}, err
		})
	default:
		h.fail(w, h.methodNotAllowed("POST or DELETE"), meteredManageError, http.MethodPost, http.MethodDelete)
	}
}

// readChange reads a management request that creates or deletes: its
// query, with secretKey and the extra parameters (a missing secretKey is
// answered before the body is read), and its JSON body into body. On
// failure it has answered.
func (m *Metered) readChange(w http.ResponseWriter, r *http.Request, body any, extra ...string) (meteredQuery, bool) {
	h := &m.h
	q, err := parseMeteredQuery(h.rd, r.URL.RawQuery, append([]string{"secretKey"}, extra...)...)
	if err != nil {
		h.fail(w, err, meteredManageError)
		return q, false
	}
	if q.SecretKey == "" {
		m.authenticateSecret(w, r, q.SecretKey)
		return q, false
	}
	if err := h.rd.JSON(w, r, body); err != nil {
		h.fail(w, err, meteredManageError)
		return q, false
	}
	return q, true
}

// create answers POST …/credential?secretKey=….
func (m *Metered) create(w http.ResponseWriter, r *http.Request) {
	h := &m.h
	var body meteredCreateBody
	q, ok := m.readChange(w, r, &body)
	if !ok {
		return
	}
	ttl, ok := jsonSeconds(body.ExpiryInSeconds)
	if !ok {
		h.fail(w, h.badRequest("please enter a positive integer value for expiryInSeconds"), meteredManageError)
		return
	}
	caller, ok := m.authenticateSecret(w, r, q.SecretKey)
	if !ok {
		return
	}
	c, err := h.cfg.Static.CreateStatic(r.Context(), &NewStatic{AppID: caller.AppID, Label: body.Label, TTL: ttl})
	if err != nil {
		h.fail(w, err, meteredManageError)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, meteredCreated{
		Username: c.Username, Password: c.Password, APIKey: c.APIKey, Label: c.Label, ExpiryInSeconds: expirySeconds(c.StaticCredential),
	})
}

// serveByLabel serves DELETE …/credential/by_label?secretKey=…&label=….
func (m *Metered) serveByLabel(w http.ResponseWriter, r *http.Request) {
	h := &m.h
	if r.Method != http.MethodDelete {
		h.fail(w, h.methodNotAllowed("DELETE"), meteredManageError, http.MethodDelete)
		return
	}
	m.deleteBy(w, r, "label", func(ctx context.Context, appID, label string) (any, error) {
		n, err := h.cfg.Static.DeleteStatic(ctx, appID, store.StaticMatch{Label: label})
		return map[string]int{"deleted": n}, err
	})
}

// meteredDeleteBody is the body of a deletion: the username or the label,
// which may come in the query instead.
type meteredDeleteBody struct {
	Username *string `json:"username"`
	Label    *string `json:"label"`
}

// deleteBy answers a deletion of the credentials that field (username or
// label) names, in the query or in a JSON body, not both; del deletes
// them and returns the answer.
func (m *Metered) deleteBy(w http.ResponseWriter, r *http.Request, field string, del func(ctx context.Context, appID, v string) (any, error)) {
	h := &m.h
	var body meteredDeleteBody
	q, ok := m.readChange(w, r, &body, field)
	if !ok {
		return
	}
	fromQuery, fromBody, stray := q.Username, body.Username, body.Label
	misplaced, required := "label is not a parameter of a deletion by username: use …/credential/by_label", meteredNeedsUsername
	if field == "label" {
		fromQuery, fromBody, stray = q.Label, body.Label, body.Username
		misplaced, required = "username is not a parameter of a deletion by label", "label is required: give the label of the credentials to delete"
	}
	if stray != nil {
		h.fail(w, h.badRequest("%s", misplaced), meteredManageError)
		return
	}
	v := fromQuery
	switch {
	case fromBody != nil && fromQuery != "":
		h.fail(w, h.badRequest("%s is given twice, in the query and in the body", field), meteredManageError)
		return
	case fromBody != nil:
		v = *fromBody
	}
	if v == "" {
		h.fail(w, h.badRequest("%s", required), meteredManageError)
		return
	}
	caller, ok := m.authenticateSecret(w, r, q.SecretKey)
	if !ok {
		return
	}
	out, err := del(r.Context(), caller.AppID, v)
	if err != nil {
		h.fail(w, err, meteredManageError)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
