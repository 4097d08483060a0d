package compat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
)

// Caller is who an API key authenticates: the app and the key's ID.
type Caller struct {
	// AppID is the app the key belongs to.
	AppID string
	// KeyID identifies the key (not secret).
	KeyID string
}

// Regions says where a session's relay may be, in relay regions (a
// client's slug already resolved through the alias table). Both empty
// means anywhere: the nearest healthy relay in a region the app may use.
type Regions struct {
	// Fixed, if set, are the only regions the relay may be in, any of
	// them; without a healthy relay there the request fails.
	Fixed []string
	// Preferred, if set, are tried first, with a fallback to the nearest
	// relay elsewhere.
	Preferred []string
}

// Request asks the Issuer for a short-lived credential on behalf of a
// vendor-shaped request.
type Request struct {
	// Caller is who the request's API key authenticated.
	Caller
	// TTL is the credential's lifetime; the handlers always set it (each
	// vendor has its own default).
	TTL time.Duration
	// HostIP is the address to choose the relay by: the one the request
	// names, or its client's. It is never stored or logged. The zero value
	// means unknown.
	HostIP netip.Addr
	// Regions constrains the relay's region.
	Regions Regions
	// Metadata is what the request says of its session (Turnix's room and
	// clients), to record on the session.
	Metadata store.Metadata
}

// Credential is what a vendor-shaped answer is made of.
type Credential struct {
	// Username and Password are the TURN credential.
	Username, Password string
	// TTL is the lifetime the credential was issued for; zero for a
	// persistent credential.
	TTL time.Duration
	// Region is the chosen relay's region.
	Region string
	// URLs are the chosen relay's stun:, turn: and turns: URLs.
	URLs []string
}

// Issuer is what the Turnix and Baton endpoints, and Metered's management
// endpoints, need of turnkit's issuer. turnkit's Kit implements it; so can
// anything that decides credentials the same way. Implementations are
// safe for concurrent use.
type Issuer interface {
	// Authenticate returns the caller an API key belongs to. src is the
	// address the request came from, for limiting failed attempts per
	// source; it is never stored or logged. An unknown or revoked key is
	// an error that ErrorMapper.Status maps to 401; a paused app's 403; a
	// source over its limit 429.
	Authenticate(ctx context.Context, key string, src netip.Addr) (Caller, error)
	// Issue mints a credential for req: it checks the app, its rate
	// limits and balance, chooses the relay and signs the credential.
	// Errors map, through ErrorMapper, to 400 (a TTL or metadata out of
	// bounds), 402, 403 (a region the app may not use), 429 or 503 (no
	// healthy relay, in the fixed regions or at all).
	Issue(ctx context.Context, req *Request) (*Credential, error)
}

// StaticCredential is a persistent credential as Metered's endpoints list
// it.
type StaticCredential struct {
	// Username, Password and Label are the credential's.
	Username, Password, Label string
	// CreatedAt is when it was created; ExpiresAt when it expires (zero:
	// never).
	CreatedAt, ExpiresAt time.Time
	// Expired is set once ExpiresAt has passed.
	Expired bool
}

// NewStatic describes a persistent credential to create.
type NewStatic struct {
	// AppID is the app the credential is for.
	AppID string
	// Label names the credential; it may be empty.
	Label string
	// TTL, if positive, is how long the credential lasts; zero means it
	// never expires.
	TTL time.Duration
}

// CreatedStatic is a new persistent credential and its front-end API key,
// shown this once.
type CreatedStatic struct {
	StaticCredential
	// APIKey fetches the credential's ICE servers; it is safe in front-end
	// code and dies with the credential.
	APIKey string
}

// StaticQuery selects an app's persistent credentials for a listing.
type StaticQuery struct {
	// AppID is the app whose credentials are listed.
	AppID string
	// Label, if set, keeps only the credentials with this label.
	Label string
	// All includes expired credentials.
	All bool
	// Offset and Limit select the page.
	Offset, Limit int
}

// Placement is how to choose the relay for a credential.
type Placement struct {
	// HostIP is the address to choose by; never stored or logged.
	HostIP netip.Addr
	// Regions constrains the relay's region.
	Regions Regions
}

// StaticCredentials is what Metered's endpoints need of turnkit's
// persistent credentials (store.StaticCredentials behind the Kit's
// caches). Implementations are safe for concurrent use.
type StaticCredentials interface {
	// CreateStatic creates a persistent credential for req.AppID. A label
	// that is not printable or is over 64 bytes, or a TTL out of bounds,
	// is an error ErrorMapper maps to 400.
	CreateStatic(ctx context.Context, req *NewStatic) (*CreatedStatic, error)
	// StaticICE returns the credential whose front-end API key is apiKey,
	// with the URLs of the relay chosen for place. src is the request's
	// source address, for limiting failed attempts, and is never stored or
	// logged. A key that is unknown, or whose credential expired or was
	// deleted, is an error that maps to 401.
	StaticICE(ctx context.Context, apiKey string, src netip.Addr, place Placement) (*Credential, error)
	// ListStatic returns the page of the app's credentials that q selects,
	// oldest first, and how many match in all.
	ListStatic(ctx context.Context, q *StaticQuery) (page []StaticCredential, total int, err error)
	// DeleteStatic deletes the app's credentials that m names (by
	// username, or every one with a label) and returns how many it
	// deleted; none is not an error. Their front-end API keys die with
	// them, and they open no allocation from then on.
	DeleteStatic(ctx context.Context, appID string, m store.StaticMatch) (int, error)
}

// ErrorMapper turns the errors of the backends, and the handlers' own
// (which wrap Kinds), into HTTP answers: turnkit passes its HTTPStatus,
// ErrorDetail and WriteErrorHeaders, so that one map decides every status
// whatever the shape of the answer.
type ErrorMapper interface {
	// Status returns the HTTP status code for err.
	Status(err error) int
	// Detail returns the text of err for its sender: never a secret, and
	// a generic text for a failure that is the server's.
	Detail(err error) string
	// WriteHeaders sets the headers an answer to err needs before its
	// status is written: Retry-After for a rate limit, Allow (with allow)
	// for a method not allowed.
	WriteHeaders(w http.ResponseWriter, err error, allow ...string)
}

// Kinds are the error kinds the handlers wrap their own refusals in, so
// that Config.Errors answers for them too. turnkit passes its sentinels
// (ErrBadRequest, ErrInvalidKey, ErrMethodNotAllowed, ErrBodyTooLarge,
// ErrUnsupportedMediaType). Every field is required.
type Kinds struct {
	// BadRequest marks malformed input, an unknown region slug included.
	BadRequest error
	// InvalidKey marks a request without a usable API key where the
	// vendor answers 401 (Turnix's and Baton's missing Bearer token).
	InvalidKey error
	// MethodNotAllowed marks a method the endpoint does not serve.
	MethodNotAllowed error
	// TooLarge marks a body or query string over MaxBodyBytes.
	TooLarge error
	// UnsupportedMedia marks a body of a content type the endpoint does
	// not take.
	UnsupportedMedia error
}

// Config configures the vendor-shaped handlers. Errors and Kinds are
// required, Issuer by NewTurnix, NewBaton and NewMetered, Static by
// NewMetered; the other fields have the documented defaults.
type Config struct {
	// Issuer authenticates API keys and mints short-lived credentials.
	Issuer Issuer
	// Static keeps Metered's persistent credentials.
	Static StaticCredentials
	// Errors maps errors to statuses, texts and headers.
	Errors ErrorMapper
	// Kinds are the kinds the handlers' own errors wrap.
	Kinds Kinds
	// Aliases maps the region slugs clients send to relay regions; a slug
	// it does not know is a 400. Defaults to selector.NewAliases(nil),
	// which knows every slug of the vendors' documents.
	Aliases *selector.Aliases
	// ClientIP returns the address of a request's client, for relay
	// choice and the failed-key limit (never stored or logged). Defaults
	// to the connection's peer address; behind a reverse proxy, return
	// the address it forwards.
	ClientIP func(*http.Request) netip.Addr
	// MaxBodyBytes bounds request bodies and, apart, query strings; larger
	// ones get 413. Defaults to 4096.
	MaxBodyBytes int64
	// Logger receives the errors that are the server's fault, never a
	// request's key, body, query or address. Defaults to discarding logs.
	Logger *slog.Logger
}

// handler is what the three vendors' handlers share: the checked Config
// and the body reader.
type handler struct {
	cfg Config
	rd  httpx.Reader
}

// newHandler checks cfg, fills its defaults and requires the backends
// that need names.
func newHandler(cfg Config, vendor string, issuer, static bool) (handler, error) {
	var missing []string
	if issuer && cfg.Issuer == nil {
		missing = append(missing, "Issuer")
	}
	if static && cfg.Static == nil {
		missing = append(missing, "Static")
	}
	if cfg.Errors == nil {
		missing = append(missing, "Errors")
	}
	k := cfg.Kinds
	if k.BadRequest == nil || k.InvalidKey == nil || k.MethodNotAllowed == nil || k.TooLarge == nil || k.UnsupportedMedia == nil {
		missing = append(missing, "every field of Kinds")
	}
	if len(missing) > 0 {
		return handler{}, fmt.Errorf("compat: %s: config lacks %v", vendor, missing)
	}
	if cfg.Aliases == nil {
		a, err := selector.NewAliases(nil)
		if err != nil {
			return handler{}, fmt.Errorf("compat: %s: %w", vendor, err)
		}
		cfg.Aliases = a
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteIP
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return handler{cfg: cfg, rd: httpx.Reader{Limit: cfg.MaxBodyBytes, Errors: httpx.Errors{
		BadRequest: k.BadRequest, TooLarge: k.TooLarge, UnsupportedMedia: k.UnsupportedMedia,
	}}}, nil
}

// fail answers err with the status the ErrorMapper gives, in the body
// shape the vendor uses, and logs it if it is the server's fault.
func (h *handler) fail(w http.ResponseWriter, err error, shape func(status int, detail string) any, allow ...string) {
	status := h.cfg.Errors.Status(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		h.cfg.Logger.Error("request failed", "err", err)
	}
	h.cfg.Errors.WriteHeaders(w, err, allow...)
	httpx.WriteJSON(w, status, shape(status, h.cfg.Errors.Detail(err)))
}

// errorBody is the error body of Turnix and Baton: {"error": detail}.
func errorBody(_ int, detail string) any { return map[string]string{"error": detail} }

// issue authenticates key and mints the credential req asks for on behalf
// of the key's caller.
func (h *handler) issue(r *http.Request, key string, req Request) (*Credential, error) {
	caller, err := h.cfg.Issuer.Authenticate(r.Context(), key, h.cfg.ClientIP(r))
	if err != nil {
		return nil, err
	}
	req.Caller = caller
	return h.cfg.Issuer.Issue(r.Context(), &req)
}

// badRequest returns an error of the BadRequest kind.
func (h *handler) badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", h.cfg.Kinds.BadRequest, fmt.Sprintf(format, args...))
}

// methodNotAllowed returns an error of the MethodNotAllowed kind.
func (h *handler) methodNotAllowed(allowed string) error {
	return fmt.Errorf("%w: use %s", h.cfg.Kinds.MethodNotAllowed, allowed)
}

// errNoBearer is the text of a missing or malformed bearer token.
var errNoBearer = errors.New("send the API key as \"Authorization: Bearer <key>\"")

// bearer returns the request's bearer token, or an error of the
// InvalidKey kind.
func (h *handler) bearer(r *http.Request) (string, error) {
	token, ok := httpx.Bearer(r)
	if !ok || token == "" {
		return "", fmt.Errorf("%w: %w", h.cfg.Kinds.InvalidKey, errNoBearer)
	}
	return token, nil
}

// remoteIP returns the address of the peer of r: the default ClientIP.
func remoteIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}
