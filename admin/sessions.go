package admin

import (
	"fmt"
	"net/http"

	"github.com/turnkit/turnkit/internal/httpx"
)

// GET sessions?app&limit&after: a page of the fleet's live sessions, of
// one app when app is given, in ID order.
func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request) {
	p, q, err := h.listQuery(r, "sessions", "app")
	if err != nil {
		h.fail(w, err)
		return
	}
	appID := ""
	if q.Has("app") {
		if appID = q.Get("app"); appID == "" {
			h.fail(w, fmt.Errorf("%w: app is empty: name an app, or leave app out for every app", h.cfg.Kinds.BadRequest))
			return
		}
		if _, err := h.cfg.Apps.App(r.Context(), appID); err != nil {
			h.fail(w, notFoundAs(err, "no app %q", httpx.Clip(appID)))
			return
		}
	}
	h.answerSessions(w, r, appID, p)
}

// GET apps/{app}/sessions?limit&after: a page of the app's live sessions.
func (h *Handler) listAppSessions(w http.ResponseWriter, r *http.Request) {
	app, p, ok := h.appList(w, r, "sessions")
	if !ok {
		return
	}
	h.answerSessions(w, r, app.ID, p)
}

func (h *Handler) answerSessions(w http.ResponseWriter, r *http.Request, appID string, p page) {
	list, err := h.cfg.Sessions.ActiveSessions(r.Context(), appID, p.after, p.limit+1)
	if err != nil {
		h.fail(w, err)
		return
	}
	list, next := trim(list, p.limit, "sessions", func(s Session) string { return s.ID })
	writePage(w, "sessions", mapSlice(list, sessionOut), next)
}
