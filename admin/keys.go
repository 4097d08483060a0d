package admin

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/store"
)

// GET apps/{app}/keys?limit&after: a page of the app's API keys, oldest
// first: IDs and dates, never the keys.
func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	app, p, ok := h.appList(w, r, "keys")
	if !ok {
		return
	}
	keys, err := h.cfg.Keys.Keys(r.Context(), app.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	// Keys are in creation order, not ID order: the cursor is the ID of
	// the last key shown, and the page starts after it.
	start := 0
	if p.after != "" {
		i := slices.IndexFunc(keys, func(k store.APIKey) bool { return k.ID == p.after })
		if i < 0 {
			h.fail(w, fmt.Errorf("%w: after names no key of app %q", h.cfg.Kinds.BadRequest, httpx.Clip(app.ID)))
			return
		}
		start = i + 1
	}
	keys = keys[start:min(len(keys), start+p.limit+1)]
	keys, next := trim(keys, p.limit, "keys", func(k store.APIKey) string { return k.ID })
	writePage(w, "keys", mapSlice(keys, keyOut), next)
}

// POST apps/{app}/keys (an empty body or {}): a new API key, shown in this
// answer only (201).
func (h *Handler) addKey(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok || !h.noInput(w, r) {
		return
	}
	key, err := h.cfg.Keys.AddKey(r.Context(), app.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, newKeyOut(key))
}

// DELETE apps/{app}/keys/{key}: revokes the key (again: no change) and
// answers it with its revocation time.
func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok || !h.noInput(w, r) {
		return
	}
	id := r.PathValue("key")
	k, err := h.cfg.Keys.RevokeKey(r.Context(), app.ID, id)
	if err != nil {
		h.fail(w, notFoundAs(err, "app %q has no key %q", httpx.Clip(app.ID), httpx.Clip(id)))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, keyOut(k))
}
