package turnkit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/turnkit/turnkit/admin"
	"github.com/turnkit/turnkit/store"
)

// AdminHandler returns the admin JSON API and the usage dashboard (package
// admin), to mount at /admin/ next to Handler:
//
//	mux.Handle("/admin/", kit.AdminHandler())
//
// The page is at /admin/ (open it as /admin/#token=<admin token>), the API
// under /admin/api/, every call of which carries
// "Authorization: Bearer <admin token>". Without Config.AdminToken (or
// AdminTokenHash) every request gets 503. Wrong tokens are limited per
// source as FailureLimits says for API keys (429 past it). Changes go
// through the Kit's methods (PauseApp, RevokeKey, SetRelayDraining, …), so
// caches are dropped, sessions ended and other nodes told as when called
// from Go. Call it once and mount the result: each call makes a handler
// with its own failure limiter.
func (k *Kit) AdminHandler() http.Handler {
	b := adminBackend{k: k}
	h, err := admin.New(admin.Config{
		TokenHash: k.adminTokenHash(),
		Apps:      b, Keys: b, Billing: b, Sessions: b, Fleet: b, Credentials: b,
		Errors: adminErrors{},
		Kinds: admin.Kinds{
			BadRequest: ErrBadRequest, MethodNotAllowed: ErrMethodNotAllowed,
			TooLarge: ErrBodyTooLarge, UnsupportedMedia: ErrUnsupportedMediaType,
		},
		Limiter:      k.adminLimiter(),
		MaxBodyBytes: k.cfg.MaxBodyBytes,
		Logger:       k.log,
		Now:          k.cfg.Now,
	})
	if err != nil {
		// The configuration above is complete: this is a bug.
		panic(fmt.Sprintf("turnkit: admin handler: %v", err))
	}
	return h
}

// Bounds on an admin token set in Config.AdminToken.
const (
	minAdminTokenLen = 16
	maxAdminTokenLen = 256
)

// checkAdminToken validates Config.AdminToken and AdminTokenHash. The
// error never contains the token.
func (c Config) checkAdminToken() error {
	if c.AdminToken == "" {
		return nil
	}
	if n := len(c.AdminToken); n < minAdminTokenLen || n > maxAdminTokenLen {
		return fmt.Errorf("%w: config: AdminToken must be %d to %d characters, got %d", ErrBadRequest, minAdminTokenLen, maxAdminTokenLen, n)
	}
	if strings.IndexFunc(c.AdminToken, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return fmt.Errorf("%w: config: AdminToken must be printable ASCII without spaces", ErrBadRequest)
	}
	if c.AdminTokenHash != ([32]byte{}) && c.AdminTokenHash != sha256.Sum256([]byte(c.AdminToken)) {
		return fmt.Errorf("%w: config: AdminToken and AdminTokenHash are both set and disagree; set one", ErrBadRequest)
	}
	return nil
}

// adminTokenHash is the SHA-256 of the admin token; zero when none is
// configured.
func (k *Kit) adminTokenHash() [32]byte {
	if k.cfg.AdminToken != "" {
		return sha256.Sum256([]byte(k.cfg.AdminToken))
	}
	return k.cfg.AdminTokenHash
}

// adminBackend implements the interfaces of package admin with the Kit's
// methods, so that an admin change does what the same call from Go does.
type adminBackend struct{ k *Kit }

var (
	_ admin.Apps     = adminBackend{}
	_ admin.Keys     = adminBackend{}
	_ admin.Billing  = adminBackend{}
	_ admin.Sessions = adminBackend{}
	_ admin.Fleet    = adminBackend{}

	_ admin.StaticCredentials = adminBackend{}
)

// errUnsupported marks an admin call the Kit's store cannot serve; it is
// answered 501.
var errUnsupported = errors.New("turnkit: not supported by the store")

// ListApps lists apps with the store's AppLister.
func (b adminBackend) ListApps(ctx context.Context, after string, limit int) ([]store.App, error) {
	l, ok := b.k.store.(store.AppLister)
	if !ok {
		return nil, fmt.Errorf("%w: store %T cannot list apps (store.AppLister)", errUnsupported, b.k.store)
	}
	apps, err := l.ListApps(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("turnkit: list apps: %w", err)
	}
	return apps, nil
}

// App returns an app.
func (b adminBackend) App(ctx context.Context, id string) (store.App, error) { return b.k.App(ctx, id) }

// CreateApp creates an app with a generated key.
func (b adminBackend) CreateApp(ctx context.Context, id, name string) (store.App, admin.NewKey, error) {
	c, err := b.k.CreateApp(ctx, NewApp{ID: id, Name: name})
	if errors.Is(err, store.ErrExists) {
		return store.App{}, admin.NewKey{}, fmt.Errorf("%w: an app with ID %q", store.ErrExists, clip(id))
	}
	if err != nil {
		return store.App{}, admin.NewKey{}, err
	}
	return c.App, b.newKey(ctx, c.KeyID, c.Key), nil
}

// SetAppStatus pauses, resumes or marks an app for deletion.
func (b adminBackend) SetAppStatus(ctx context.Context, id string, status store.AppStatus) error {
	switch status {
	case store.AppActive:
		return b.k.ResumeApp(ctx, id)
	case store.AppPaused:
		return b.k.PauseApp(ctx, id)
	case store.AppDeleting:
		return b.k.MarkAppForDeletion(ctx, id)
	}
	return fmt.Errorf("%w: app status %q", ErrBadRequest, clip(string(status)))
}

// SetAppRegions limits an app's regions.
func (b adminBackend) SetAppRegions(ctx context.Context, id string, regions []string) error {
	return b.k.SetAppRegions(ctx, id, regions)
}

// Keys lists an app's keys.
func (b adminBackend) Keys(ctx context.Context, appID string) ([]store.APIKey, error) {
	return b.k.Keys(ctx, appID)
}

// AddKey adds a generated key.
func (b adminBackend) AddKey(ctx context.Context, appID string) (admin.NewKey, error) {
	id, key, err := b.k.AddKey(ctx, appID)
	if err != nil {
		return admin.NewKey{}, err
	}
	return b.newKey(ctx, id, key), nil
}

// newKey describes a key just added, with its creation time as stored.
func (b adminBackend) newKey(ctx context.Context, id, key string) admin.NewKey {
	nk := admin.NewKey{ID: id, Key: key, CreatedAt: b.k.cfg.Now().UTC()}
	if rec, err := b.k.store.Key(ctx, id); err == nil {
		nk.CreatedAt = rec.CreatedAt
	}
	return nk
}

// RevokeKey revokes a key of the app.
func (b adminBackend) RevokeKey(ctx context.Context, appID, keyID string) (store.APIKey, error) {
	rec, err := b.k.store.Key(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.AppID != appID) {
		return store.APIKey{}, fmt.Errorf("%w: app %s has no key %s", store.ErrNotFound, appID, clip(keyID))
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("turnkit: key %s: %w", clip(keyID), err)
	}
	if err := b.k.RevokeKey(ctx, keyID); err != nil {
		return store.APIKey{}, err
	}
	if rec, err = b.k.store.Key(ctx, keyID); err != nil {
		return store.APIKey{}, fmt.Errorf("turnkit: key %s: %w", keyID, err)
	}
	return rec, nil
}

// Balance returns an app's balance as of now.
func (b adminBackend) Balance(ctx context.Context, appID string) (store.Balance, error) {
	return b.k.ledger.Balance(ctx, appID)
}

// TopUp tops an app up once per reference.
func (b adminBackend) TopUp(ctx context.Context, appID string, bytes int64, ref string) (bool, error) {
	return b.k.ledger.TopUp(ctx, appID, bytes, ref)
}

// HourlyUsage sums the app's usage by hour with the store's
// HourlyUsageLister, or else from the whole journal.
func (b adminBackend) HourlyUsage(ctx context.Context, appID string, from, to time.Time) ([]store.UsageHour, error) {
	if l, ok := b.k.store.(store.HourlyUsageLister); ok {
		hours, err := l.HourlyUsage(ctx, appID, from, to)
		if err != nil {
			return nil, fmt.Errorf("turnkit: usage of app %s: %w", appID, err)
		}
		return hours, nil
	}
	return journalUsage(ctx, b.k.ledger, appID, from, to)
}

// journalUsage sums the app's usage entries of [from, to) by hour from
// from, reading its whole journal.
func journalUsage(ctx context.Context, l *Ledger, appID string, from, to time.Time) ([]store.UsageHour, error) {
	byHour := map[int64]*store.UsageHour{}
	var after int64
	for {
		page, err := l.Entries(ctx, appID, after, 10000)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			after = e.ID
			if e.Kind != "usage" || e.At.Before(from) || !e.At.Before(to) {
				continue
			}
			i := int64(e.At.Sub(from) / time.Hour)
			u := byHour[i]
			if u == nil {
				u = &store.UsageHour{Start: from.UTC().Add(time.Duration(i) * time.Hour)}
				byHour[i] = u
			}
			u.Bytes -= e.Subscription + e.PAYG
			u.Entries++
		}
		if len(page) < 10000 {
			break
		}
	}
	out := make([]store.UsageHour, 0, len(byHour))
	for _, u := range byHour {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b store.UsageHour) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// ActiveSessions lists the fleet's live sessions from the store's
// ActiveSessionLister, with the byte counts of this process's relay (up to
// the moment) for its own; without that capability, this relay's sessions
// only.
func (b adminBackend) ActiveSessions(ctx context.Context, appID, after string, limit int) ([]admin.Session, error) {
	live := map[string]admin.Session{}
	if r := b.k.relay; r != nil {
		for _, s := range r.Sessions() {
			if appID == "" || s.AppID == appID {
				live[s.SessionID] = admin.Session{
					ID: s.SessionID, AppID: s.AppID, RelayID: s.RelayID, Gateway: s.Gateway, KeyID: s.KeyID,
					Transport: s.Transport, StartedAt: s.At.UTC(), ToPeer: s.ToPeer, ToClient: s.ToClient, InProcess: true,
				}
			}
		}
	}
	l, ok := b.k.store.(store.ActiveSessionLister)
	if !ok {
		return b.liveSessions(ctx, live, after, limit)
	}
	recs, err := l.ActiveSessions(ctx, appID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("turnkit: active sessions: %w", err)
	}
	out := make([]admin.Session, 0, len(recs))
	for _, s := range recs {
		as, here := live[s.ID]
		if !here {
			as = admin.Session{ID: s.ID, AppID: s.AppID, RelayID: s.RelayID, Gateway: s.Gateway, KeyID: s.KeyID,
				StartedAt: s.StartedAt, ToPeer: s.ToPeer, ToClient: s.ToClient}
		}
		as.Metadata = s.Metadata
		out = append(out, as)
	}
	return out, nil
}

// liveSessions is a page of this process's relay's sessions, with the
// metadata the store holds for them.
func (b adminBackend) liveSessions(ctx context.Context, live map[string]admin.Session, after string, limit int) ([]admin.Session, error) {
	list := make([]admin.Session, 0, len(live))
	for _, s := range live {
		if s.ID > after {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b admin.Session) int { return cmp.Compare(a.ID, b.ID) })
	list = list[:min(len(list), limit)]
	for i := range list {
		if rec, err := b.k.store.Session(ctx, list[i].ID); err == nil {
			list[i].Metadata = rec.Metadata
		}
	}
	return list, nil
}

// Relays lists the registry with each relay's health.
func (b adminBackend) Relays(ctx context.Context) ([]admin.Relay, error) {
	recs, err := b.k.store.ListRelays(ctx)
	if err != nil {
		return nil, fmt.Errorf("turnkit: relay registry: %w", err)
	}
	now := b.k.cfg.Now()
	out := make([]admin.Relay, len(recs))
	for i, r := range recs {
		health := admin.Healthy
		switch age := now.Sub(r.ReportedAt); {
		case age > b.k.fleet.DeadAfter:
			health = admin.Dead
		case age >= b.k.fleet.OfflineAfter:
			health = admin.Offline
		}
		out[i] = admin.Relay{
			ID: r.ID, Region: r.Region, Allocations: r.Allocations, Capacity: r.Capacity, Bitrate: r.Bitrate,
			Health: health, Draining: r.Draining, ReportedAt: r.ReportedAt,
			InProcess: b.k.relay != nil && r.ID == b.k.relay.ID() && r.Instance == b.k.relay.Instance(),
		}
	}
	return out, nil
}

// SetRelayDraining drains a relay or takes it back into service.
func (b adminBackend) SetRelayDraining(ctx context.Context, id string, draining bool) error {
	return b.k.SetRelayDraining(ctx, id, draining)
}

// ListStaticCredentials lists an app's static credentials, expired ones
// included.
func (b adminBackend) ListStaticCredentials(ctx context.Context, appID string, offset, limit int) ([]admin.StaticCredential, int, error) {
	list, total, err := b.k.StaticCredentials(ctx, appID, StaticCredentialQuery{All: true, Offset: offset, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	out := make([]admin.StaticCredential, len(list))
	for i, c := range list {
		out[i] = staticOut(c)
	}
	return out, total, nil
}

// CreateStaticCredential makes a static credential until expiresAt (zero:
// no expiry), with the ICE servers of the relay chosen for it.
func (b adminBackend) CreateStaticCredential(ctx context.Context, appID, label string, expiresAt time.Time) (admin.NewStaticCredential, error) {
	req := StaticCredentialRequest{AppID: appID, Label: label}
	if !expiresAt.IsZero() {
		if req.TTL = expiresAt.Sub(b.k.cfg.Now()); req.TTL <= 0 {
			return admin.NewStaticCredential{}, fmt.Errorf("%w: expiry %s is past", ErrBadRequest, expiresAt.Format(time.RFC3339))
		}
	}
	c, err := b.k.CreateStaticCredential(ctx, req)
	if err != nil {
		return admin.NewStaticCredential{}, err
	}
	out := admin.NewStaticCredential{StaticCredential: staticOut(c.StaticCredential), APIKey: c.APIKey}
	if out.ICEServers, err = b.staticICEServers(ctx, c.StaticCredential); err != nil {
		return admin.NewStaticCredential{}, err
	}
	return out, nil
}

// StaticICEServers returns one of the app's static credentials and the
// ICE servers of the relay chosen for it now.
func (b adminBackend) StaticICEServers(ctx context.Context, appID, username string) (admin.StaticCredential, []admin.ICEServer, error) {
	c, err := b.k.store.StaticCredential(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.AppID != appID) {
		return admin.StaticCredential{}, nil, fmt.Errorf("%w: app %s has no static credential %q", ErrNotFound, appID, clip(username))
	}
	if err != nil {
		return admin.StaticCredential{}, nil, fmt.Errorf("turnkit: static credential: %w", err)
	}
	servers, err := b.staticICEServers(ctx, c)
	if err != nil {
		return admin.StaticCredential{}, nil, err
	}
	return staticOut(c), servers, nil
}

// staticICEServers chooses a relay for a static credential, as for a
// request without a host address, and answers its STUN URLs and its TURN
// URLs with the credential.
func (b adminBackend) staticICEServers(ctx context.Context, c store.StaticCredential) ([]admin.ICEServer, error) {
	app, err := b.k.App(ctx, c.AppID)
	if err != nil {
		return nil, err
	}
	rel, err := b.k.registry.ChooseRelay(ctx, RelayQuery{EnabledRegions: app.Regions})
	if err != nil {
		return nil, err
	}
	var stun, turn []string
	for _, u := range rel.URLs {
		if strings.HasPrefix(u, "stun:") || strings.HasPrefix(u, "stuns:") {
			stun = append(stun, u)
		} else {
			turn = append(turn, u)
		}
	}
	var out []admin.ICEServer
	if len(stun) > 0 {
		out = append(out, admin.ICEServer{URLs: stun})
	}
	if len(turn) > 0 {
		out = append(out, admin.ICEServer{URLs: turn, Username: c.Username, Credential: c.Password})
	}
	return out, nil
}

// DeleteStaticCredential deletes one of the app's static credentials.
func (b adminBackend) DeleteStaticCredential(ctx context.Context, appID, username string) error {
	return b.k.DeleteStaticCredential(ctx, appID, username)
}

func staticOut(c store.StaticCredential) admin.StaticCredential {
	return admin.StaticCredential{Username: c.Username, Label: c.Label, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt}
}

// adminErrors maps errors to admin answers: as HTTPStatus and ErrorDetail
// do, and 409 for a record that exists, 501 for what the store cannot do.
type adminErrors struct{}

var _ admin.Errors = adminErrors{}

func (adminErrors) Status(err error) int {
	switch {
	case errors.Is(err, store.ErrExists):
		return http.StatusConflict
	case errors.Is(err, errUnsupported):
		return http.StatusNotImplemented
	}
	return HTTPStatus(err)
}

func (e adminErrors) Detail(err error) string {
	if s := e.Status(err); s == http.StatusConflict || s == http.StatusNotImplemented {
		return strings.TrimPrefix(err.Error(), "turnkit: ")
	}
	return ErrorDetail(err)
}

// adminLimiter limits wrong admin tokens per source address, as
// FailureLimits does for API keys, in a table of its own.
type adminLimiter struct {
	l   *failureLimiter
	ip  func(*http.Request) netip.Addr
	now func() time.Time
}

var _ admin.Limiter = adminLimiter{}

// adminLimiter returns the admin handler's limiter, or nil when
// FailureLimits turns limits off. Its table is small: an admin API has few
// sources.
func (k *Kit) adminLimiter() admin.Limiter {
	fl := k.cfg.FailureLimits
	if fl.Slots <= 0 || fl.Slots > 1024 {
		fl.Slots = 1024
	}
	l := newFailureLimiter(fl)
	if l == nil {
		return nil
	}
	return adminLimiter{l: l, ip: k.cfg.ClientIP, now: k.cfg.Now}
}

func (a adminLimiter) Take(r *http.Request) (bool, time.Duration) { return a.l.take(a.ip(r), a.now()) }

func (a adminLimiter) Refund(r *http.Request) { a.l.refund(a.ip(r)) }
