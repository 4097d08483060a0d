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
// authenticates credentials (turnkit's REST form through the key ring),
// admits allocations of active apps whose API key is not revoked, and
// records sessions and their usage in the store.
type relayHooks struct {
	rest     relay.Authenticator
	ring     *KeyRing
	auth     *authCache
	sessions store.Sessions
	meta     store.CredentialMetadata
	ledger   *Ledger
	log      *slog.Logger
	now      func() time.Time
}

var (
	_ relay.Authenticator = (*relayHooks)(nil)
	_ relay.Admitter      = (*relayHooks)(nil)
	_ relay.Sink          = (*relayHooks)(nil)
)

// Authenticate accepts the credentials the Issuer mints: the TURN REST
// form, verified with the key ring. A key ID the ring does not hold makes
// it reload the ring from the store (at most once a second) and try again,
// so a secret another node just put in service verifies at once.
func (h *relayHooks) Authenticate(ctx context.Context, req *relay.AuthRequest) (*relay.Identity, error) {
	id, err := h.rest.Authenticate(ctx, req)
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
	sess := store.Session{
		ID: ev.SessionID, AppID: ev.AppID, Username: ev.Username, RelayID: ev.RelayID, StartedAt: ev.At.UTC(),
		Instance: ev.Instance, Gateway: ev.Gateway, KeyID: ev.KeyID,
	}
	if h.meta != nil && hasMetadata(ev.Username) {
		m, err := h.meta.CredentialMetadata(ctx, ev.Username, h.now())
		switch {
		case err == nil:
			sess.Metadata = m
		case !errors.Is(err, store.ErrNotFound):
			h.log.Warn("session metadata not read", "session", ev.SessionID, "err", err)
		}
	}
	if err := h.sessions.OpenSession(ctx, sess); err != nil {
		return fmt.Errorf("turnkit: open session %s: %w", ev.SessionID, err)
	}
	return nil
}

// Usage charges a usage delta to the app's ledger, once.
func (h *relayHooks) Usage(ctx context.Context, d *relay.UsageDelta) error {
	_, err := h.ledger.Charge(ctx, store.Usage{
		SessionID: d.SessionID, Seq: d.Seq, AppID: d.AppID, ToPeer: d.ToPeer, ToClient: d.ToClient, At: d.At.UTC(),
	})
	return err
}

// SessionEnded closes a session.
func (h *relayHooks) SessionEnded(ctx context.Context, ev *relay.SessionEvent) error {
	if err := h.sessions.CloseSession(ctx, ev.SessionID, ev.At.UTC()); err != nil {
		return fmt.Errorf("turnkit: close session %s: %w", ev.SessionID, err)
	}
	return nil
}
