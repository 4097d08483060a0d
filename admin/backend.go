package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/turnkit/turnkit/store"
)

// This file holds what the handler needs from the program it serves: one
// small interface per concern, and the plain records they exchange. The
// turnkit package implements them on its Kit (kit.AdminHandler); a program
// may implement them itself.
//
// Every method takes a context first and is called from the request's
// goroutine; implementations are safe for concurrent use. Errors are
// answered with the status and detail Config.Errors gives them.

// Apps manages apps.
type Apps interface {
	// ListApps returns up to limit apps whose ID sorts after after (byte
	// order; "" for the first page), in ID order.
	ListApps(ctx context.Context, after string, limit int) ([]store.App, error)
	// App returns an app, or an error wrapping store.ErrNotFound.
	App(ctx context.Context, id string) (store.App, error)
	// CreateApp creates an active app with a generated API key, shown
	// only in the answer. An empty id asks for a generated one. It fails
	// with an error wrapping store.ErrExists for a taken ID.
	CreateApp(ctx context.Context, id, name string) (store.App, NewKey, error)
	// SetAppStatus pauses, resumes or marks an app for deletion: its
	// caches are dropped, its live sessions end when it is not active, and
	// other nodes are told.
	SetAppStatus(ctx context.Context, id string, status store.AppStatus) error
	// SetAppRegions limits the regions the app's sessions may use; empty
	// enables every region.
	SetAppRegions(ctx context.Context, id string, regions []string) error
}

// Keys manages the API keys of apps.
type Keys interface {
	// Keys returns every key of an existing app, revoked ones included,
	// oldest first.
	Keys(ctx context.Context, appID string) ([]store.APIKey, error)
	// AddKey adds a generated key to an existing app and returns it: the
	// only time the key is shown.
	AddKey(ctx context.Context, appID string) (NewKey, error)
	// RevokeKey revokes the key keyID of the app appID; a key of another
	// app is not found (an error wrapping store.ErrNotFound). Revoking a
	// revoked key is not an error.
	RevokeKey(ctx context.Context, appID, keyID string) (store.APIKey, error)
}

// NewKey is an API key just made: its ID, when, and the key itself, which
// is never shown again.
type NewKey struct {
	// ID identifies the key for listing and revocation.
	ID string
	// CreatedAt is when it was made.
	CreatedAt time.Time
	// Key is the API key itself.
	Key string
}

// Billing reads balances and usage and tops balances up.
type Billing interface {
	// Balance returns the app's balance as of now.
	Balance(ctx context.Context, appID string) (store.Balance, error)
	// TopUp adds bytes to the app's pay-as-you-go bucket once per ref: a
	// second call with the same ref changes nothing and returns false.
	TopUp(ctx context.Context, appID string, bytes int64, ref string) (applied bool, err error)
	// HourlyUsage returns the usage the app was charged in each hour
	// from+k·1h before to that has any, as store.HourlyUsageLister does:
	// the journal's "usage" entries, -(Subscription+PAYG) each, summed by
	// the hour their At falls in.
	HourlyUsage(ctx context.Context, appID string, from, to time.Time) ([]store.UsageHour, error)
}

// Session is a live relay session as the admin API shows it: never a
// client or peer address, nor the TURN username.
type Session struct {
	// ID identifies the session.
	ID string
	// AppID, RelayID, Gateway (the gateway's tag) and KeyID attribute it.
	AppID, RelayID, Gateway, KeyID string
	// Metadata is what the credential request said of it.
	Metadata store.Metadata
	// Transport is "udp" or "tcp" when known.
	Transport string
	// StartedAt is when its allocation was made.
	StartedAt time.Time
	// ToPeer and ToClient are the bytes relayed so far each way.
	ToPeer, ToClient int64
	// InProcess is set when the session is on this process's relay: its
	// byte counts are then up to the moment, not as last charged.
	InProcess bool
}

// Sessions lists live sessions.
type Sessions interface {
	// ActiveSessions returns up to limit live sessions of the app appID
	// (of every app for ""), whose ID sorts after after (byte order), in
	// ID order, across the fleet.
	ActiveSessions(ctx context.Context, appID, after string, limit int) ([]Session, error)
}

// Health is a relay's health, from the age of its last report.
type Health string

// The relay healths.
const (
	// Healthy: it reported within the fleet's offline bound.
	Healthy Health = "healthy"
	// Offline: its last report is older than the offline bound; it gets
	// no new sessions.
	Offline Health = "offline"
	// Dead: its last report is older than the dead bound; its open
	// sessions are closed with the usage they last reported.
	Dead Health = "dead"
)

// Relay is a relay of the fleet as the admin API shows it: no address.
type Relay struct {
	// ID and Region identify it.
	ID, Region string
	// Allocations is its load at its last report; Capacity the
	// allocations it takes at most (0: no stated limit); Bitrate its
	// relayed bits per second.
	Allocations, Capacity int
	Bitrate               int64
	// Health is from ReportedAt.
	Health Health
	// Draining is set while it keeps its sessions and takes no new ones.
	Draining bool
	// ReportedAt is its last report.
	ReportedAt time.Time
	// InProcess is set for the relay of this process.
	InProcess bool
}

// Fleet reads and steers the relay registry.
type Fleet interface {
	// Relays returns every relay of the registry, in ID order.
	Relays(ctx context.Context) ([]Relay, error)
	// SetRelayDraining sets or clears a relay's draining flag; an unknown
	// relay is an error wrapping store.ErrNotFound.
	SetRelayDraining(ctx context.Context, id string, draining bool) error
}

// Errors turns the backends' errors, and the handler's own (which wrap the
// kinds of Config.Kinds), into answers.
type Errors interface {
	// Status returns the HTTP status for err.
	Status(err error) int
	// Detail returns the text of the answer's "detail" for err: nothing
	// secret, and nothing internal for a server error.
	Detail(err error) string
}

// Limiter slows down guessing of the admin token. It is asked before the
// token is checked.
type Limiter interface {
	// Take spends one attempt for the request's source; false, with how
	// long until the source may try again, when it has none left.
	Take(r *http.Request) (ok bool, wait time.Duration)
	// Refund gives back the attempt of a request whose token was right.
	Refund(r *http.Request)
}
