package admin

import (
	"fmt"
	"net/http"

	"github.com/turnkit/turnkit/internal/httpx"
)

// GET relays?limit&after: a page of the fleet's relays in ID order, with
// their load and health.
func (h *Handler) listRelays(w http.ResponseWriter, r *http.Request) {
	p, _, err := h.listQuery(r, "relays")
	if err != nil {
		h.fail(w, err)
		return
	}
	relays, err := h.cfg.Fleet.Relays(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	page, next := trim(after(relays, p, relayID), p.limit, "relays", relayID)
	writePage(w, "relays", mapSlice(page, relayOut), next)
}

func relayID(r Relay) string { return r.ID }

// drainingBody is the body of PUT relays/{relay}/draining.
type drainingBody struct {
	Draining *bool `json:"draining"`
}

// PUT relays/{relay}/draining {"draining": true | false}: a draining relay
// keeps its sessions and gets no new ones. It answers the relay.
func (h *Handler) setDraining(w http.ResponseWriter, r *http.Request) {
	var body drainingBody
	if err := h.input(w, r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if body.Draining == nil {
		h.fail(w, fmt.Errorf("%w: draining must be true or false", h.cfg.Kinds.BadRequest))
		return
	}
	id := r.PathValue("relay")
	notFound := fmt.Errorf("%w: no relay %q", errNotFound, httpx.Clip(id))
	if err := h.cfg.Fleet.SetRelayDraining(r.Context(), id, *body.Draining); err != nil {
		if isNotFound(err) {
			err = notFound
		}
		h.fail(w, err)
		return
	}
	relays, err := h.cfg.Fleet.Relays(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	for _, rel := range relays {
		if rel.ID == id {
			httpx.WriteJSON(w, http.StatusOK, relayOut(rel))
			return
		}
	}
	h.fail(w, notFound) // it left the registry meanwhile
}
