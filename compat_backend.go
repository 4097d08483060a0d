package turnkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/turnkit/turnkit/compat"
	"github.com/turnkit/turnkit/selector"
	"github.com/turnkit/turnkit/store"
)

// compatHandlers are the Kit's vendor-shaped handlers (package compat).
type compatHandlers struct {
	turnix  *compat.Turnix
	metered *compat.Metered
	baton   *compat.Baton
}

// openCompat builds the static credential cache, the region alias table
// and the vendor-shaped handlers, and makes the Baton handler the Bearer
// form of POST /v1/credentials.
func (k *Kit) openCompat() error {
	aliases, err := selector.NewAliases(k.cfg.RegionAliases)
	if err != nil {
		return fmt.Errorf("turnkit: config: RegionAliases: %w", err)
	}
	k.statics = newStaticCache(k.store, k.cfg.KeyCacheSize, k.cfg.KeyCacheTTL, k.cfg.Now)
	b := compatBackend{k: k}
	cfg := compat.Config{
		Issuer: b, Static: b, Errors: compatErrors{},
		Kinds: compat.Kinds{
			BadRequest: ErrBadRequest, InvalidKey: ErrInvalidKey, MethodNotAllowed: ErrMethodNotAllowed,
			TooLarge: ErrBodyTooLarge, UnsupportedMedia: ErrUnsupportedMediaType,
		},
		Aliases: aliases, ClientIP: k.cfg.ClientIP, MaxBodyBytes: k.cfg.MaxBodyBytes, Logger: k.log,
	}
	if k.compat.turnix, err = compat.NewTurnix(cfg); err != nil {
		return err
	}
	if k.compat.metered, err = compat.NewMetered(cfg); err != nil {
		return err
	}
	if k.compat.baton, err = compat.NewBaton(cfg); err != nil {
		return err
	}
	k.bearer = k.compat.baton
	return nil
}

// mountCompat mounts the vendor-shaped endpoints at the vendors' paths:
// Turnix's at /credentials/ice and at /api/v1/credentials/ice (its base
// URL's path and the endpoint's), Metered's under /api/v1/turn/. Baton's
// shares /v1/credentials with the native form.
func (k *Kit) mountCompat(mux *http.ServeMux) {
	mux.Handle("/credentials/ice", k.compat.turnix)
	mux.Handle("/api/v1/credentials/ice", k.compat.turnix)
	for _, p := range []string{"/api/v1/turn/credentials", "/api/v1/turn/credential", "/api/v1/turn/credential/by_label"} {
		mux.Handle(p, k.compat.metered)
	}
}

// TurnixHandler returns the handler of Turnix's POST /credentials/ice
// (see compat.Turnix), to mount at any path.
func (k *Kit) TurnixHandler() http.Handler { return k.compat.turnix }

// MeteredHandler returns the handler of Metered's TURN credential API
// (see compat.Metered). It routes by the end of the path, so mount it
// under any prefix, such as "/api/v1/turn/".
func (k *Kit) MeteredHandler() http.Handler { return k.compat.metered }

// BatonHandler returns the handler of Baton's POST /v1/credentials with a
// Bearer key (see compat.Baton), to mount at any path. CredentialsHandler
// hands it the requests that carry an Authorization header.
func (k *Kit) BatonHandler() http.Handler { return k.compat.baton }

// compatErrors is the error map of package compat: turnkit's.
type compatErrors struct{}

var _ compat.ErrorMapper = compatErrors{}

func (compatErrors) Status(err error) int    { return HTTPStatus(err) }
func (compatErrors) Detail(err error) string { return ErrorDetail(err) }
func (compatErrors) WriteHeaders(w http.ResponseWriter, err error, allow ...string) {
	WriteErrorHeaders(w, err, allow...)
}

// compatBackend adapts the Kit to the interfaces package compat declares:
// the Issuer decides the short-lived credentials, the Kit's static
// credentials the persistent ones.
type compatBackend struct{ k *Kit }

var (
	_ compat.Issuer            = compatBackend{}
	_ compat.StaticCredentials = compatBackend{}
)

// Authenticate authenticates an API key as the native handlers do, with
// the failed-key limit of its source.
func (b compatBackend) Authenticate(ctx context.Context, key string, src netip.Addr) (compat.Caller, error) {
	c, err := b.k.issuer.AuthenticateFrom(ctx, key, src)
	return compat.Caller(c), err
}

// Issue mints a credential through the Kit's Issuer, with the issuance
// rate limits of HTTP requests.
func (b compatBackend) Issue(ctx context.Context, req *compat.Request) (*compat.Credential, error) {
	cred, err := b.k.issuer.Issue(ctx, &CredentialRequest{
		AppID: req.AppID, KeyID: req.KeyID, RateLimit: true, HostIP: req.HostIP, TTL: req.TTL,
		FixedRegions: req.Regions.Fixed, PreferredRegions: req.Regions.Preferred, Metadata: req.Metadata,
	})
	if err != nil {
		return nil, err
	}
	return &compat.Credential{Username: cred.Username, Password: cred.Password, TTL: cred.TTL, Region: cred.Region, URLs: cred.URLs}, nil
}

// CreateStatic creates a static credential.
func (b compatBackend) CreateStatic(ctx context.Context, req *compat.NewStatic) (*compat.CreatedStatic, error) {
	c, err := b.k.CreateStaticCredential(ctx, StaticCredentialRequest{AppID: req.AppID, Label: req.Label, TTL: req.TTL})
	if err != nil {
		return nil, err
	}
	return &compat.CreatedStatic{StaticCredential: b.listed(c.StaticCredential), APIKey: c.APIKey}, nil
}

// StaticICE finds a static credential by its front-end key and chooses
// its relay.
func (b compatBackend) StaticICE(ctx context.Context, apiKey string, src netip.Addr, place compat.Placement) (*compat.Credential, error) {
	rec, rel, err := b.k.staticICE(ctx, apiKey, src, RelayQuery{
		HostIP: place.HostIP, FixedRegions: place.Regions.Fixed, PreferredRegions: place.Regions.Preferred,
	})
	if err != nil {
		return nil, err
	}
	return &compat.Credential{Username: rec.Username, Password: rec.Password, Region: rel.Region, URLs: rel.URLs}, nil
}

// ListStatic lists an app's static credentials.
func (b compatBackend) ListStatic(ctx context.Context, q *compat.StaticQuery) ([]compat.StaticCredential, int, error) {
	list, total, err := b.k.StaticCredentials(ctx, q.AppID, StaticCredentialQuery{Label: q.Label, All: q.All, Offset: q.Offset, Limit: q.Limit})
	if err != nil {
		return nil, 0, err
	}
	out := make([]compat.StaticCredential, len(list))
	for i, c := range list {
		out[i] = b.listed(c)
	}
	return out, total, nil
}

// DeleteStatic deletes static credentials by username or by label.
func (b compatBackend) DeleteStatic(ctx context.Context, appID string, m store.StaticMatch) (int, error) {
	if m.Label != "" {
		return b.k.DeleteStaticCredentialsByLabel(ctx, appID, m.Label)
	}
	err := b.k.DeleteStaticCredential(ctx, appID, m.Username)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return 1, nil
}

// listed converts a stored static credential for package compat.
func (b compatBackend) listed(c store.StaticCredential) compat.StaticCredential {
	return compat.StaticCredential{
		Username: c.Username, Password: c.Password, Label: c.Label, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
		Expired: c.Expired(b.k.cfg.Now()),
	}
}
