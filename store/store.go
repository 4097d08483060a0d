package store

import (
	"context"
	"time"
)

// Store is what a storage backend provides: every concern of turnkit's
// storage in one value. Backends implement it in full; callers that need one
// concern take the narrower interface.
//
// All methods are safe for concurrent use. Every method takes a context
// first and returns promptly with the context's error once it is cancelled.
type Store interface {
	Apps
	Keys
	Secrets
	Sessions

	// Close releases the backend's resources. It does not close a database
	// handle that the caller passed in.
	Close() error
}

// AppStatus is the lifecycle state of an app.
type AppStatus string

// The app states. Only an active app gets credentials and allocations.
const (
	AppActive   AppStatus = "active"
	AppPaused   AppStatus = "paused"
	AppDeleting AppStatus = "deleting"
)

// Valid reports whether s is one of the defined states.
func (s AppStatus) Valid() bool {
	return s == AppActive || s == AppPaused || s == AppDeleting
}

// App is a tenant of turnkit: the unit that owns API keys, sessions and a
// balance.
type App struct {
	// ID is the app's identifier. It contains neither ':' nor '_', so that it
	// can be embedded in TURN usernames.
	ID string
	// Name is a human-readable label; it may be empty.
	Name string
	// Status is the app's lifecycle state.
	Status AppStatus
	// CreatedAt is when the app was created.
	CreatedAt time.Time
}

// Apps stores apps.
type Apps interface {
	// CreateApp stores a new app. It returns ErrExists if an app with the
	// same ID exists.
	CreateApp(ctx context.Context, app App) error
	// App returns the app with the given ID, or ErrNotFound.
	App(ctx context.Context, id string) (App, error)
	// SetAppStatus changes an app's status. It returns ErrNotFound if there
	// is no such app.
	SetAppStatus(ctx context.Context, id string, status AppStatus) error
}

// APIKey is one API key of an app. The key itself is never stored: only its
// SHA-256 hash.
type APIKey struct {
	// ID identifies the key for listing and revocation. It is not secret.
	ID string
	// AppID is the app the key belongs to.
	AppID string
	// Hash is the SHA-256 of the key.
	Hash [32]byte
	// CreatedAt is when the key was created.
	CreatedAt time.Time
	// RevokedAt is when the key was revoked; zero while the key is valid.
	RevokedAt time.Time
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Keys stores API keys.
type Keys interface {
	// AddKey stores a new key. It returns ErrExists if a key with the same
	// ID or the same hash is stored, and ErrNotFound if the app does not
	// exist.
	AddKey(ctx context.Context, key APIKey) error
	// KeyByHash returns the key with the given hash, revoked or not, or
	// ErrNotFound.
	KeyByHash(ctx context.Context, hash [32]byte) (APIKey, error)
	// RevokeKey marks a key revoked at the given time. Revoking a revoked
	// key keeps the first revocation time and is not an error. It returns
	// ErrNotFound if there is no such key.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// AppKeys returns the keys of an app, revoked ones included, oldest
	// first (keys created at the same time in the order they were added).
	// An app without keys yields an empty slice and no error.
	AppKeys(ctx context.Context, appID string) ([]APIKey, error)
}

// Secret is one relay secret of the key ring: the HMAC key that TURN
// credentials are signed with.
type Secret struct {
	// ID is the key ID that usernames carry so the relay can pick the
	// secret. It is short, lowercase alphanumeric, and not secret.
	ID string
	// Value is the secret itself.
	Value []byte
	// CreatedAt is when the secret was added. The newest secret that is not
	// retired signs new credentials.
	CreatedAt time.Time
	// NotAfter is when the secret stops verifying; zero while it is in
	// service without an end. A rotated secret gets a NotAfter late enough
	// for every credential it signed to expire first.
	NotAfter time.Time
}

// Secrets stores the relay key ring.
type Secrets interface {
	// AddSecret stores a new secret. It returns ErrExists if a secret with
	// the same ID is stored.
	AddSecret(ctx context.Context, s Secret) error
	// ListSecrets returns every stored secret, oldest first (secrets created
	// at the same time in the order they were added).
	ListSecrets(ctx context.Context) ([]Secret, error)
	// RetireSecret sets the time after which a secret no longer verifies.
	// It returns ErrNotFound if there is no such secret.
	RetireSecret(ctx context.Context, id string, notAfter time.Time) error
}

// Session is one relay allocation, attributed to an app.
type Session struct {
	// ID identifies the session.
	ID string
	// AppID is the app the allocation's credential belongs to.
	AppID string
	// Username is the TURN username the allocation was made with.
	Username string
	// RelayID identifies the relay that holds the allocation.
	RelayID string
	// StartedAt is when the allocation was created.
	StartedAt time.Time
	// EndedAt is when the allocation was deleted; zero while it is active.
	EndedAt time.Time
}

// Active reports whether the session has not ended.
func (s Session) Active() bool { return s.EndedAt.IsZero() }

// Sessions stores relay sessions.
type Sessions interface {
	// OpenSession stores a new active session. It returns ErrExists if a
	// session with the same ID is stored.
	OpenSession(ctx context.Context, s Session) error
	// CloseSession ends a session at the given time. Closing a closed
	// session keeps the first end time and is not an error. It returns
	// ErrNotFound if there is no such session.
	CloseSession(ctx context.Context, id string, at time.Time) error
	// Session returns the session with the given ID, or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// CountActiveSessions returns how many sessions of the app have not
	// ended.
	CountActiveSessions(ctx context.Context, appID string) (int, error)
}
