package turnkit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// EventKind names what an Event tells.
type EventKind string

// The kinds of Event.
const (
	// EventSessionStarted: the in-process relay opened an allocation.
	// AppID, SessionID, RelayID, KeyID and Transport are set.
	EventSessionStarted EventKind = "session_started"
	// EventSessionEnded: an allocation of the in-process relay was
	// deleted or expired. As for EventSessionStarted, and ToPeer and
	// ToClient are its byte totals.
	EventSessionEnded EventKind = "session_ended"
	// EventLowBalance: an app's total balance fell below its threshold,
	// once per downward crossing, as BillingConfig.OnLowBalance tells it.
	// AppID and Balance are set.
	EventLowBalance EventKind = "low_balance"
	// EventRelayOffline: Sweep found that a relay of the registry had not
	// reported for more than FleetConfig.OfflineAfter (once per crossing;
	// at the first Sweep too, for a relay already silent). RelayID,
	// Region and LastReport are set. Every Kit that sweeps the registry
	// tells it.
	EventRelayOffline EventKind = "relay_offline"
	// EventRelayOnline: a relay that was offline reports again. RelayID,
	// Region and LastReport are set.
	EventRelayOnline EventKind = "relay_online"
	// EventKeyRevoked: Kit.RevokeKey revoked a valid API key. AppID and
	// KeyID are set.
	EventKeyRevoked EventKind = "key_revoked"
	// EventAppPaused, EventAppResumed and EventAppMarkedForDeletion: the
	// Kit changed an app's status (PauseApp, ResumeApp,
	// MarkAppForDeletion) to a new one. AppID is set.
	EventAppPaused            EventKind = "app_paused"
	EventAppResumed           EventKind = "app_resumed"
	EventAppMarkedForDeletion EventKind = "app_marked_for_deletion"
)

// Event is what Config.OnEvent receives: a kind, when it happened, and the
// identifiers the kind names (see the EventKind constants); the fields a
// kind does not use are zero. It never holds an address, a username, an
// API key or a secret. New fields may be added.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// At is when it happened (by Config.Now).
	At time.Time
	// AppID is the app concerned.
	AppID string
	// SessionID identifies the session (relay.SessionEvent.SessionID).
	SessionID string
	// RelayID identifies the relay.
	RelayID string
	// Region is the relay's region.
	Region string
	// KeyID identifies the API key: the one revoked, or the one that
	// minted a session's credential (empty if unknown).
	KeyID string
	// Transport is "udp" or "tcp", between client and relay.
	Transport string
	// ToPeer and ToClient are a session's byte totals, at its end.
	ToPeer, ToClient int64
	// Balance is the app's balance right after the change that crossed
	// its threshold.
	Balance store.Balance
	// LastReport is when the relay last reported to the registry.
	LastReport time.Time
}

// eventQueueSize bounds the events waiting for Config.OnEvent.
const eventQueueSize = 1024

// eventQueue hands events to the embedder's handler from one goroutine,
// in order. push never blocks: when the queue is full the event is
// dropped and counted, so a slow handler cannot hold up the relay's event
// delivery or a ledger change.
type eventQueue struct {
	handle func(context.Context, Event)
	log    *slog.Logger
	stats  *kitStats
	ch     chan Event
	stop   chan struct{}
	done   chan struct{}

	mu     sync.Mutex // guards closed and the sends on ch
	closed bool
}

// newEventQueue starts the delivery goroutine; it returns nil for a nil
// handler (and push and close on nil do nothing).
func newEventQueue(handle func(context.Context, Event), size int, stats *kitStats, log *slog.Logger) *eventQueue {
	if handle == nil {
		return nil
	}
	q := &eventQueue{handle: handle, log: log, stats: stats, ch: make(chan Event, size),
		stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// push queues ev, or drops and counts it when the queue is full or
// closed.
func (q *eventQueue) push(ev Event) {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		select {
		case q.ch <- ev:
			return
		default:
		}
	}
	q.stats.dropped.Add(1)
}

func (q *eventQueue) run() {
	defer close(q.done)
	for {
		select {
		case ev := <-q.ch:
			q.deliver(ev)
		case <-q.stop:
			for {
				select {
				case ev := <-q.ch:
					q.deliver(ev)
				default:
					return
				}
			}
		}
	}
}

// deliver calls the handler; a panic in it is logged, not spread.
func (q *eventQueue) deliver(ev Event) {
	defer func() {
		if p := recover(); p != nil {
			q.log.Error("event handler panicked", "kind", ev.Kind, "panic", p)
		}
	}()
	q.handle(context.Background(), ev)
	q.stats.delivered.Add(1)
}

// close delivers the events already queued, drops later ones and waits
// for the delivery goroutine.
func (q *eventQueue) close() {
	if q == nil {
		return
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done
}

// emit queues an event for Config.OnEvent, if set.
func (k *Kit) emit(ev Event) { k.events.push(ev) }

// sessionEvent returns the Event of a relay session event.
func sessionEvent(kind EventKind, ev *relay.SessionEvent) Event {
	e := Event{Kind: kind, At: ev.At, AppID: ev.AppID, SessionID: ev.SessionID, RelayID: ev.RelayID, KeyID: ev.KeyID, Transport: ev.Transport}
	if kind == EventSessionEnded {
		e.ToPeer, e.ToClient = ev.ToPeer, ev.ToClient
	}
	return e
}

// withLowBalanceEvent returns b with an OnLowBalance that calls b's own
// (if any) and then emits EventLowBalance.
func (k *Kit) withLowBalanceEvent(b BillingConfig) BillingConfig {
	if k.events == nil {
		return b
	}
	user := b.OnLowBalance
	b.OnLowBalance = func(ctx context.Context, ev LowBalance) {
		if user != nil {
			user(ctx, ev)
		}
		k.emit(Event{Kind: EventLowBalance, At: ev.At, AppID: ev.AppID, Balance: ev.Balance})
	}
	return b
}

// statusEvent returns the event of changing an app to status.
func statusEvent(status store.AppStatus) EventKind {
	switch status {
	case store.AppPaused:
		return EventAppPaused
	case store.AppDeleting:
		return EventAppMarkedForDeletion
	}
	return EventAppResumed
}

// revocationEvent returns, before a key is revoked, the EventKeyRevoked to
// emit once it is; ok is false when no handler is set or the key is
// unknown or already revoked (revoking it again changes nothing).
func (k *Kit) revocationEvent(ctx context.Context, keyID string) (ev Event, ok bool) {
	if k.events == nil {
		return Event{}, false
	}
	key, err := k.store.Key(ctx, keyID)
	if err != nil || key.Revoked() {
		return Event{}, false
	}
	return Event{Kind: EventKeyRevoked, At: k.cfg.Now(), AppID: key.AppID, KeyID: keyID}, true
}

// statusChangeEvent returns, before an app's status is set, the event to
// emit once it is; ok is false when no handler is set, the app is
// unknown, or it already has that status.
func (k *Kit) statusChangeEvent(ctx context.Context, appID string, status store.AppStatus) (ev Event, ok bool) {
	if k.events == nil {
		return Event{}, false
	}
	app, err := k.store.App(ctx, appID)
	if err != nil || app.Status == status {
		return Event{}, false
	}
	return Event{Kind: statusEvent(status), At: k.cfg.Now(), AppID: appID}, true
}
