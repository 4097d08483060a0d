package relay

import (
	"context"
	"time"
)

// Secrets gives the relay the secrets that credentials are signed with: the
// relay's default authenticator (NewRESTAuthenticator) finds the secret by
// the key ID in the username. StaticSecrets is an implementation held in
// memory.
//
// Secret is called for every authenticated TURN request, on the request
// path: implementations answer from memory and must not block on I/O. It
// returns the secret with the given key ID if that secret still verifies at
// time now, and false otherwise (unknown, or retired before now). It is
// called from several goroutines at once.
type Secrets interface {
	Secret(keyID string, now time.Time) (secret []byte, ok bool)
}

// AdmitRequest describes an Allocate, or a Refresh that extends an
// allocation, whose credential the authenticator accepted. New fields may
// be added.
type AdmitRequest struct {
	// Username is the TURN username of the request.
	Username string
	// AppID is the app the username belongs to (Identity.AppID).
	AppID string
	// RelayID identifies the relay asked.
	RelayID string
	// Method is MethodAllocate or MethodRefresh.
	Method Method
	// KeyID is the ID of the API key that minted the credential
	// (Identity.KeyID), empty if unknown: an admitter refuses the
	// credentials of a revoked key by it.
	KeyID string
	// Gateway is the tag of the gateway the credential was issued through
	// (Identity.Gateway), empty if none.
	Gateway string
}

// Admitter decides whether the app behind a valid credential may allocate,
// or keep an allocation, now: that the app is not paused, that its API key
// was not revoked. It is called on the request path at every Allocate and
// at every Refresh with a non-zero lifetime (a Refresh that deletes an
// allocation is always allowed), from several goroutines at once; it should
// answer from memory or a cache.
//
// A non-nil error refuses the request. An Allocate is answered 401
// Unauthorized, as for a bad credential. A Refresh is answered 403
// Forbidden, signed with the credential: the client's allocation is not
// extended and ends when its current lifetime runs out (pion's client
// logs the failed refresh and goes on sending until then; Server.EndSessions
// ends it at once).
type Admitter interface {
	Admit(ctx context.Context, req *AdmitRequest) error
}

// SessionEvent describes the start or the end of a session (an allocation).
// New fields may be added.
type SessionEvent struct {
	// SessionID identifies the session; it is unique per allocation.
	SessionID string
	// Username is the TURN username the allocation was made with.
	Username string
	// AppID is the app the session is attributed to: Identity.AppID, as
	// the authenticator answered at Allocate.
	AppID string
	// KeyID is the ID of the API key that minted the credential
	// (Identity.KeyID), empty if unknown.
	KeyID string
	// Gateway is the tag of the gateway the credential was issued through
	// (Identity.Gateway), empty if none.
	Gateway string
	// RelayID identifies the relay.
	RelayID string
	// Instance identifies this run of the relay: it is new at every New,
	// so sessions left open by a dead process of the same relay ID can be
	// told apart and closed.
	Instance string
	// Transport is "udp" or "tcp": the transport between client and relay.
	Transport string
	// At is when the allocation was created or deleted.
	At time.Time
	// ToPeer and ToClient are the session's byte totals, set on the end
	// event: the sums of its usage deltas.
	ToPeer, ToClient int64
}

// UsageDelta reports the bytes one session's allocation relayed since the
// previous delta. New fields may be added.
type UsageDelta struct {
	// SessionID identifies the session.
	SessionID string
	// AppID is the app the session belongs to.
	AppID string
	// RelayID identifies the relay.
	RelayID string
	// Seq numbers the session's deltas 1, 2, 3, … with no gap: a sink that
	// records (SessionID, Seq) applies each delta exactly once, however
	// often it is delivered.
	Seq uint64
	// ToPeer is the payload the relay sent to peers: what the relayed
	// socket's write accepted.
	ToPeer int64
	// ToClient is the payload the relay forwarded to the client: data from
	// peers the allocation holds a permission for, handed to the client's
	// socket.
	ToClient int64
	// At is when the delta was taken.
	At time.Time
	// Final marks the last delta, taken when the allocation closed.
	Final bool
}

// Bytes returns the delta's billable egress, ToPeer + ToClient.
func (d *UsageDelta) Bytes() int64 { return d.ToPeer + d.ToClient }

// Sink receives session events and usage. The relay calls it from a single
// goroutine, in order (a session's start, its usage deltas, its end), never
// from the packet path; a slow sink delays later events but not traffic.
// A failed Usage call is retried a few times with backoff (a sink that
// dedupes by SessionID and Seq makes that safe); other failures are logged.
type Sink interface {
	SessionStarted(ctx context.Context, ev *SessionEvent) error
	Usage(ctx context.Context, d *UsageDelta) error
	SessionEnded(ctx context.Context, ev *SessionEvent) error
}

// BatchSink is an optional capability of a Sink: taking many usage deltas
// at once, so that a relay with thousands of live allocations — whose
// periodic flush yields one delta per allocation — charges them in few
// transactions. The relay calls UsageBatch instead of Usage for every
// run of consecutive deltas in its queue (of one delta too), at most
// MaxBatch at a time,
// with the same retries; a sink that records (SessionID, Seq) applies each
// delta exactly once however often it is delivered.
type BatchSink interface {
	UsageBatch(ctx context.Context, ds []*UsageDelta) error
}

// SessionBatchSink is an optional capability of a Sink: taking many
// session starts and ends at once, so that a relay whose allocations come
// and go by the thousand a second records them in few transactions. The
// relay calls SessionsStarted instead of SessionStarted (and SessionsEnded
// instead of SessionEnded) for every run of consecutive start (end) events
// in its queue, of one too, at most MaxBatch at a time; the order of a
// session's events is kept (its start, its deltas, its end).
type SessionBatchSink interface {
	SessionsStarted(ctx context.Context, evs []*SessionEvent) error
	SessionsEnded(ctx context.Context, evs []*SessionEvent) error
}
