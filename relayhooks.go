package turnkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// relayHooks adapts the Kit to the interfaces the relay declares: it
// authenticates credentials (turnkit's REST form through the key ring, and
// static credentials by lookup),
// admits allocations of active apps whose API key is not revoked, and
// records sessions and their usage in the store.
type relayHooks struct {
	rest     relay.Authenticator
	ring     *KeyRing
	auth     *authCache
	static   *staticCache // nil: REST credentials only
	sessions store.Sessions
	meta     store.CredentialMetadata
	ledger   *Ledger
	log      *slog.Logger
	now      func() time.Time
	stats    *kitStats   // times the store calls
	events   *eventQueue // the session events for Config.OnEvent; nil: none
}

var (
	_ relay.Authenticator    = (*relayHooks)(nil)
	_ relay.Admitter         = (*relayHooks)(nil)
	_ relay.Sink             = (*relayHooks)(nil)
	_ relay.BatchSink        = (*relayHooks)(nil)
	_ relay.SessionBatchSink = (*relayHooks)(nil)
)

// Authenticate accepts the credentials the Issuer mints: the TURN REST
// form, verified with the key ring. A key ID the ring does not hold makes
// it reload the ring from the store (at most once a second) and try again,
// so a secret another node just put in service verifies at once. A
// username that is not in the REST form is looked up as a static
// credential (cached, see staticCache).
func (h *relayHooks) Authenticate(ctx context.Context, req *relay.AuthRequest) (*relay.Identity, error) {
	id, err := h.rest.Authenticate(ctx, req)
	if errors.Is(err, relay.ErrMalformedUsername) && h.static != nil {
		return h.static.authenticate(ctx, req)
	}
	if errors.Is(err, relay.ErrUnknownSecret) && h.ring.reloadOnMiss(ctx, time.Second) {
		id, err = h.rest.Authenticate(ctx, req)
	}
	return id, err
}

// Admit refuses allocations and refreshes of apps that are paused,
// deleting or unknown, and allocations with credentials minted by an API
// key that has been revoked since.
func (h *relayHooks) Admit(ctx context.Context, req *relay.AdmitRequest) error {
	if err := h.auth.checkApp(ctx, req.AppID); err != nil {
		return err
	}
	if req.KeyID == "" || req.Method != relay.MethodAllocate {
		return nil
	}
	ok, err := h.auth.keyValid(ctx, req.KeyID, req.AppID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: the credential's API key %s was revoked", ErrInvalidKey, req.KeyID)
	}
	return nil
}

// SessionStarted records a new session, with the metadata its credential
// request carried.
func (h *relayHooks) SessionStarted(ctx context.Context, ev *relay.SessionEvent) error {
	sess := h.session(ctx, ev)
	start := time.Now()
	err := h.sessions.OpenSession(ctx, sess)
	h.stats.timeStore(opOpenSession, start)
	h.events.push(sessionEvent(EventSessionStarted, ev))
	if err != nil {
		return fmt.Errorf("turnkit: open session %s: %w", ev.SessionID, err)
	}
	return nil
}

// SessionsStarted records a run of new sessions in one transaction when
// the store can, one at a time otherwise.
func (h *relayHooks) SessionsStarted(ctx context.Context, evs []*relay.SessionEvent) error {
	b, ok := h.sessions.(store.SessionBatcher)
	if !ok {
		var errs []error
		for _, ev := range evs {
			errs = append(errs, h.SessionStarted(ctx, ev))
		}
		return errors.Join(errs...)
	}
	ss := make([]store.Session, len(evs))
	for i, ev := range evs {
		ss[i] = h.session(ctx, ev)
	}
	start := time.Now()
	err := b.OpenSessions(ctx, ss)
	h.stats.timeStore(opOpenSession, start)
	for _, ev := range evs {
		h.events.push(sessionEvent(EventSessionStarted, ev))
	}
	if err != nil {
		return fmt.Errorf("turnkit: open %d sessions: %w", len(ss), err)
	}
	return nil
}

// session is the store record of a session's start, with the metadata
// its credential request carried.
func (h *relayHooks) session(ctx context.Context, ev *relay.SessionEvent) store.Session {
	sess := store.Session{
		ID: ev.SessionID, AppID: ev.AppID, Username: ev.Username, RelayID: ev.RelayID, StartedAt: ev.At.UTC(),
		Instance: ev.Instance, Gateway: ev.Gateway, KeyID: ev.KeyID,
	}
	if h.meta != nil && hasMetadata(ev.Username) {
		start := time.Now()
		m, err := h.meta.CredentialMetadata(ctx, ev.Username, h.now())
		h.stats.timeStore(opCredentialMetadata, start)
		switch {
		case err == nil:
			sess.Metadata = m
		case !errors.Is(err, store.ErrNotFound):
			h.log.Warn("session metadata not read", "session", ev.SessionID, "err", err)
		}
	}
	return sess
}

// Usage charges a usage delta to the app's ledger, once.
func (h *relayHooks) Usage(ctx context.Context, d *relay.UsageDelta) error {
	_, err := h.ledger.Charge(ctx, usageOf(d))
	return err
}

// UsageBatch charges a run of usage deltas in as few transactions as the
// store allows, each exactly once.
func (h *relayHooks) UsageBatch(ctx context.Context, ds []*relay.UsageDelta) error {
	us := make([]store.Usage, len(ds))
	for i, d := range ds {
		us[i] = usageOf(d)
	}
	_, err := h.ledger.ChargeBatch(ctx, us)
	return err
}

// usageOf is the ledger's record of a relay's usage delta.
func usageOf(d *relay.UsageDelta) store.Usage {
	return store.Usage{SessionID: d.SessionID, Seq: d.Seq, AppID: d.AppID, ToPeer: d.ToPeer, ToClient: d.ToClient, At: d.At.UTC()}
}

// SessionsEnded closes a run of sessions in one transaction when the store
// can, one at a time otherwise.
func (h *relayHooks) SessionsEnded(ctx context.Context, evs []*relay.SessionEvent) error {
	b, ok := h.sessions.(store.SessionBatcher)
	if !ok {
		var errs []error
		for _, ev := range evs {
			errs = append(errs, h.SessionEnded(ctx, ev))
		}
		return errors.Join(errs...)
	}
	ends := make([]store.SessionEnd, len(evs))
	for i, ev := range evs {
		ends[i] = store.SessionEnd{ID: ev.SessionID, At: ev.At.UTC()}
	}
	start := time.Now()
	err := b.CloseSessions(ctx, ends)
	h.stats.timeStore(opCloseSession, start)
	for _, ev := range evs {
		h.events.push(sessionEvent(EventSessionEnded, ev))
	}
	if err != nil {
		return fmt.Errorf("turnkit: close %d sessions: %w", len(ends), err)
	}
	return nil
}

// SessionEnded closes a session.
func (h *relayHooks) SessionEnded(ctx context.Context, ev *relay.SessionEvent) error {
	start := time.Now()
	err := h.sessions.CloseSession(ctx, ev.SessionID, ev.At.UTC())
	h.stats.timeStore(opCloseSession, start)
	h.events.push(sessionEvent(EventSessionEnded, ev))
	if err != nil {
		return fmt.Errorf("turnkit: close session %s: %w", ev.SessionID, err)
	}
	return nil
}
