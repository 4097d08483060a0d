package relay

import (
	"context"
	"time"
)

// Secrets gives the relay the secrets that credentials are signed with.
//
// Secret is called for every authenticated TURN request, on the request
// path: implementations answer from memory and must not block on I/O. It
// returns the secret with the given key ID if that secret still verifies at
// time now, and false otherwise (unknown, or retired before now).
type Secrets interface {
	Secret(keyID string, now time.Time) (secret []byte, ok bool)
}

// AdmitRequest describes an Allocate that passed authentication. New fields
// may be added.
type AdmitRequest struct {
	// Username is the TURN username of the request.
	Username string
	// AppID is the app the username belongs to.
	AppID string
	// RelayID identifies the relay asked.
	RelayID string
}

// Admitter decides whether the app behind a valid credential may allocate
// now (for example, that it is not paused). It is called on the request
// path at every Allocate and should answer from memory or a cache. A
// non-nil error refuses the allocation with 401.
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
	// AppID is the app the username belongs to; empty for usernames that
	// are not in turnkit's form.
	AppID string
	// RelayID identifies the relay.
	RelayID string
	// Transport is "udp" or "tcp": the transport between client and relay.
	Transport string
	// At is when the allocation was created or deleted.
	At time.Time
}

// Sink receives session events. The relay calls it from a single goroutine,
// in order, never from the packet path; a slow sink delays later events but
// not traffic. An error is logged and the event is not retried.
type Sink interface {
	SessionStarted(ctx context.Context, ev *SessionEvent) error
	SessionEnded(ctx context.Context, ev *SessionEvent) error
}
