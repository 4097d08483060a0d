package turnkit

import (
	"context"
	"fmt"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// relayHooks adapts the Kit to the interfaces the relay declares: it admits
// allocations of active apps and records sessions in the store.
type relayHooks struct {
	auth   *authCache
	store  store.Sessions
	ledger *Ledger
}

var (
	_ relay.Admitter = relayHooks{}
	_ relay.Sink     = relayHooks{}
)

// Admit refuses allocations of apps that are paused, deleting or unknown.
func (h relayHooks) Admit(ctx context.Context, req *relay.AdmitRequest) error {
	return h.auth.checkApp(ctx, req.AppID)
}

// SessionStarted records a new session.
func (h relayHooks) SessionStarted(ctx context.Context, ev *relay.SessionEvent) error {
	err := h.store.OpenSession(ctx, store.Session{
		ID: ev.SessionID, AppID: ev.AppID, Username: ev.Username, RelayID: ev.RelayID, StartedAt: ev.At.UTC(),
		Instance: ev.Instance, Gateway: tagFromUsername(ev.Username),
	})
	if err != nil {
		return fmt.Errorf("turnkit: open session %s: %w", ev.SessionID, err)
	}
	return nil
}

// Usage charges a usage delta to the app's ledger, once.
func (h relayHooks) Usage(ctx context.Context, d *relay.UsageDelta) error {
	_, err := h.ledger.Charge(ctx, store.Usage{
		SessionID: d.SessionID, Seq: d.Seq, AppID: d.AppID, ToPeer: d.ToPeer, ToClient: d.ToClient, At: d.At.UTC(),
	})
	return err
}

// SessionEnded closes a session.
func (h relayHooks) SessionEnded(ctx context.Context, ev *relay.SessionEvent) error {
	if err := h.store.CloseSession(ctx, ev.SessionID, ev.At.UTC()); err != nil {
		return fmt.Errorf("turnkit: close session %s: %w", ev.SessionID, err)
	}
	return nil
}
