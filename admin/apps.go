package admin

import (
	"fmt"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/store"
)

// Bounds on app fields.
const (
	// MaxNameLen bounds an app's name, in bytes.
	MaxNameLen = 128
	// MaxRegions bounds the regions of an app; MaxRegionLen each slug, in
	// bytes.
	MaxRegions   = 64
	MaxRegionLen = 64
)

// GET apps?limit&after: a page of apps in ID order.
func (h *Handler) listApps(w http.ResponseWriter, r *http.Request) {
	p, _, err := h.listQuery(r, "apps")
	if err != nil {
		h.fail(w, err)
		return
	}
	apps, err := h.cfg.Apps.ListApps(r.Context(), p.after, p.limit+1)
	if err != nil {
		h.fail(w, err)
		return
	}
	apps, next := trim(apps, p.limit, "apps", func(a store.App) string { return a.ID })
	writePage(w, "apps", mapSlice(apps, appOut), next)
}

// createBody is the body of POST apps.
type createBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// POST apps {"id", "name"}: a new active app and its first API key, shown
// this once (201).
func (h *Handler) createApp(w http.ResponseWriter, r *http.Request) {
	var body createBody
	if err := h.input(w, r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if err := h.checkName(body.Name); err != nil {
		h.fail(w, err)
		return
	}
	app, key, err := h.cfg.Apps.CreateApp(r.Context(), body.ID, body.Name)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"app": appOut(app), "key": newKeyOut(key)})
}

// GET apps/{app}.
func (h *Handler) getApp(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, appOut(app))
}

// statusBody is the body of PUT apps/{app}/status.
type statusBody struct {
	Status *string `json:"status"`
}

// PUT apps/{app}/status {"status": "active" | "paused" | "deleting"}:
// resumes, pauses or marks the app for deletion, and answers the app.
func (h *Handler) setStatus(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	var body statusBody
	if err := h.input(w, r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if body.Status == nil || !store.AppStatus(*body.Status).Valid() {
		h.fail(w, fmt.Errorf("%w: status must be \"active\", \"paused\" or \"deleting\"", h.cfg.Kinds.BadRequest))
		return
	}
	if err := h.cfg.Apps.SetAppStatus(r.Context(), app.ID, store.AppStatus(*body.Status)); err != nil {
		h.fail(w, err)
		return
	}
	h.answerApp(w, r, app.ID)
}

// regionsBody is the body of PUT apps/{app}/regions.
type regionsBody struct {
	Regions *[]string `json:"regions"`
}

// PUT apps/{app}/regions {"regions": [...]}: the regions the app's
// sessions may use; [] enables every region.
func (h *Handler) setRegions(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	var body regionsBody
	if err := h.input(w, r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if body.Regions == nil {
		h.fail(w, fmt.Errorf("%w: regions must be an array of region slugs; [] enables every region", h.cfg.Kinds.BadRequest))
		return
	}
	regions := *body.Regions
	if err := h.checkRegions(regions); err != nil {
		h.fail(w, err)
		return
	}
	if err := h.cfg.Apps.SetAppRegions(r.Context(), app.ID, regions); err != nil {
		h.fail(w, err)
		return
	}
	h.answerApp(w, r, app.ID)
}

// answerApp answers the app as stored now.
func (h *Handler) answerApp(w http.ResponseWriter, r *http.Request, id string) {
	app, err := h.cfg.Apps.App(r.Context(), id)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, appOut(app))
}

// appOf returns the app the path names of a request without a query
// string, answering the refusal, 404 or the store's failure otherwise.
func (h *Handler) appOf(w http.ResponseWriter, r *http.Request) (store.App, bool) {
	if _, err := h.reader.Query(r); err != nil {
		h.fail(w, err)
		return store.App{}, false
	}
	return h.pathApp(w, r)
}

// pathApp returns the app the path names, answering 404 (or the store's
// failure) when there is none. The caller has checked the query string.
func (h *Handler) pathApp(w http.ResponseWriter, r *http.Request) (store.App, bool) {
	id := r.PathValue("app")
	app, err := h.cfg.Apps.App(r.Context(), id)
	if err != nil {
		h.fail(w, notFoundAs(err, "no app %q", httpx.Clip(id)))
		return store.App{}, false
	}
	return app, true
}

// input reads a request's JSON body strictly into v; the request must
// carry no query string.
func (h *Handler) input(w http.ResponseWriter, r *http.Request, v any) error {
	if _, err := h.reader.Query(r); err != nil {
		return err
	}
	return h.reader.JSON(w, r, v)
}

// noInput refuses, answering it, a request with a query string or with a
// body other than none or {}.
func (h *Handler) noInput(w http.ResponseWriter, r *http.Request) bool {
	var none struct{}
	if err := h.input(w, r, &none); err != nil {
		h.fail(w, err)
		return false
	}
	return true
}

// checkName refuses a name over MaxNameLen bytes, not UTF-8, or with
// control characters. Markup is allowed: it is text, and the page shows it
// as text.
func (h *Handler) checkName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: name is %d bytes, over %d", h.cfg.Kinds.BadRequest, len(name), MaxNameLen)
	}
	if !printable(name) {
		return fmt.Errorf("%w: name must be UTF-8 text without control characters", h.cfg.Kinds.BadRequest)
	}
	return nil
}

// checkRegions refuses more than MaxRegions regions, repeats, and slugs
// that are empty, over MaxRegionLen bytes or not of [A-Za-z0-9._-].
func (h *Handler) checkRegions(regions []string) error {
	if len(regions) > MaxRegions {
		return fmt.Errorf("%w: %d regions, over %d", h.cfg.Kinds.BadRequest, len(regions), MaxRegions)
	}
	seen := make(map[string]bool, len(regions))
	for _, s := range regions {
		if !slug(s) {
			return fmt.Errorf("%w: region %q must be 1 to %d characters of [A-Za-z0-9._-]", h.cfg.Kinds.BadRequest, httpx.Clip(s), MaxRegionLen)
		}
		if seen[s] {
			return fmt.Errorf("%w: region %q is given twice", h.cfg.Kinds.BadRequest, s)
		}
		seen[s] = true
	}
	return nil
}

// slug reports whether s is 1 to MaxRegionLen characters of [A-Za-z0-9._-].
func slug(s string) bool {
	if s == "" || len(s) > MaxRegionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// printable reports whether s is UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}
