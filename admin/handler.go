package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/turnkit/turnkit/internal/httpx"
)

// Handler serves the admin JSON API and the dashboard. Make one with New;
// it is safe for concurrent use and needs no router: mount it at
// Config.Prefix ("/admin/" by default).
type Handler struct {
	cfg    Config
	reader httpx.Reader
	api    *http.ServeMux // the JSON API, behind the token check
	files  fileServer     // the dashboard's embedded files
}

// New returns the handler of cfg, or an error naming what cfg lacks.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg: cfg,
		reader: httpx.Reader{Limit: cfg.MaxBodyBytes, Errors: httpx.Errors{
			BadRequest: cfg.Kinds.BadRequest, TooLarge: cfg.Kinds.TooLarge, UnsupportedMedia: cfg.Kinds.UnsupportedMedia,
		}},
		api:   http.NewServeMux(),
		files: staticFiles(),
	}
	h.routes()
	return h, nil
}

// routes registers the JSON API. Each path serves a set of methods; any
// other method gets 405 with Allow, and any other path under api/ 404.
func (h *Handler) routes() {
	h.route("apps", methods{http.MethodGet: h.listApps, http.MethodPost: h.createApp})
	h.route("apps/{app}", methods{http.MethodGet: h.getApp})
	h.route("apps/{app}/status", methods{http.MethodPut: h.setStatus})
	h.route("apps/{app}/regions", methods{http.MethodPut: h.setRegions})
	h.route("apps/{app}/keys", methods{http.MethodGet: h.listKeys, http.MethodPost: h.addKey})
	h.route("apps/{app}/keys/{key}", methods{http.MethodDelete: h.revokeKey})
	h.route("apps/{app}/balance", methods{http.MethodGet: h.getBalance})
	h.route("apps/{app}/topups", methods{http.MethodPost: h.topUp})
	h.route("apps/{app}/usage", methods{http.MethodGet: h.getUsage})
	h.route("apps/{app}/sessions", methods{http.MethodGet: h.listAppSessions})
	h.route("apps/{app}/credentials", methods{http.MethodGet: h.listCredentials, http.MethodPost: h.createCredential})
	h.route("apps/{app}/credentials/{username}", methods{http.MethodGet: h.getCredential, http.MethodDelete: h.deleteCredential})
	h.route("sessions", methods{http.MethodGet: h.listSessions})
	h.route("relays", methods{http.MethodGet: h.listRelays})
	h.route("relays/{relay}/draining", methods{http.MethodPut: h.setDraining})
	h.api.HandleFunc(h.cfg.Prefix+"api/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, fmt.Errorf("%w: no admin endpoint %s", errNotFound, httpx.Clip(r.URL.Path)))
	})
}

// methods maps the methods of one path to their handlers.
type methods map[string]http.HandlerFunc

func (h *Handler) route(path string, ms methods) {
	allow := make([]string, 0, len(ms))
	for m := range ms {
		allow = append(allow, m)
	}
	slices.Sort(allow)
	h.api.HandleFunc(h.cfg.Prefix+"api/"+path, func(w http.ResponseWriter, r *http.Request) {
		serve, ok := ms[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			h.fail(w, fmt.Errorf("%w: %s %s takes %s", h.cfg.Kinds.MethodNotAllowed, r.Method, path, strings.Join(allow, ", ")))
			return
		}
		serve(w, r)
	})
}

// ServeHTTP answers 503 to everything when no token is configured; else it
// serves the page and its files to anyone (they hold no data) and the JSON
// API to requests with the right token.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if h.cfg.TokenHash == ([32]byte{}) {
		h.writeDetail(w, http.StatusServiceUnavailable,
			"the admin API is off: no admin token is configured (turnkit.Config.AdminToken)")
		return
	}
	if !strings.HasPrefix(r.URL.Path, h.cfg.Prefix) {
		h.fail(w, fmt.Errorf("%w: %s is outside %s", errNotFound, httpx.Clip(r.URL.Path), h.cfg.Prefix))
		return
	}
	if tokenInURL(r) {
		h.fail(w, fmt.Errorf("%w: the admin token goes in an \"Authorization: Bearer\" header (the page takes it after #token=), never in the query string",
			h.cfg.Kinds.BadRequest))
		return
	}
	if !strings.HasPrefix(r.URL.Path, h.cfg.Prefix+"api/") {
		h.serveFiles(w, r)
		return
	}
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if !h.authorized(w, r) {
		return
	}
	h.api.ServeHTTP(w, r)
}

// authorized checks the request's Bearer token in constant time, after
// the limiter, and answers 401 or 429 when it fails.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if l := h.cfg.Limiter; l != nil {
		if ok, wait := l.Take(r); !ok {
			secs := max(1, int((wait.Seconds())+0.999))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			h.writeDetail(w, http.StatusTooManyRequests,
				fmt.Sprintf("too many wrong admin tokens from this source; retry in %d s", secs))
			return false
		}
	}
	token, _ := httpx.Bearer(r)
	sum := sha256.Sum256([]byte(token))
	if token == "" || subtle.ConstantTimeCompare(sum[:], h.cfg.TokenHash[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="turnkit admin"`)
		h.writeDetail(w, http.StatusUnauthorized, "missing or wrong admin token: send \"Authorization: Bearer <admin token>\"")
		return false
	}
	if l := h.cfg.Limiter; l != nil {
		l.Refund(r)
	}
	return true
}

// tokenInURL reports whether the query string names a parameter that
// looks like a credential: such a URL ends up in logs and histories, so it
// is refused whatever the endpoint.
func tokenInURL(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		name, _, _ := strings.Cut(part, "=")
		switch strings.ToLower(name) {
		case "token", "access_token", "admin_token", "admintoken", "key", "apikey", "api_key", "secret", "bearer", "authorization":
			return true
		}
	}
	return false
}

// fail answers err with the status and detail Config.Errors gives it,
// logging it first when it is the server's fault.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	status := h.cfg.Errors.Status(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		h.cfg.Logger.Error("admin request failed", "err", err)
	}
	h.writeDetail(w, status, h.cfg.Errors.Detail(err))
}

// writeDetail writes {"detail": detail} with status.
func (h *Handler) writeDetail(w http.ResponseWriter, status int, detail string) {
	httpx.WriteJSON(w, status, map[string]string{"detail": detail})
}
