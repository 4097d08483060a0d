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
	SessionStats
	Ledger
	Relays
	Settings
	Exchanges
	CredentialMetadata
	StaticCredentials

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
	// Regions are the region slugs the app's sessions may use; empty
	// means every region.
	Regions []string
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
	// SetAppRegions replaces an app's enabled regions (nil or empty: all).
	// It returns ErrNotFound if there is no such app.
	SetAppRegions(ctx context.Context, id string, regions []string) error
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
	// Key returns the key with the given ID, revoked or not, or
	// ErrNotFound.
	Key(ctx context.Context, id string) (APIKey, error)
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
	// Instance identifies the relay process that holds the allocation, so
	// a restarted relay can close the sessions its previous process left.
	Instance string
	// ToPeer and ToClient are the bytes charged so far: the sums of the
	// usage applied with ApplyUsage.
	ToPeer, ToClient int64
	// Gateway is the tag of the gateway the credential was issued
	// through; empty for a regular credential.
	Gateway string
	// KeyID is the ID of the API key that minted the session's credential;
	// empty when unknown.
	KeyID string
	// Metadata is what the credential request said of the session.
	Metadata Metadata
}

// Metadata is what a credential request may say about the session it is
// for: the names vendor APIs send (Turnix's room, initiator_client and
// receiver_client). It never holds an address. Each field is at most
// MaxMetadataLen bytes of printable text; the zero value means none.
type Metadata struct {
	// Room groups the connections of one call or match.
	Room string
	// Initiator names the client that starts the connection.
	Initiator string
	// Receiver names the client that receives it.
	Receiver string
}

// MaxMetadataLen bounds each field of Metadata, in bytes.
const MaxMetadataLen = 128

// IsZero reports whether m says nothing.
func (m Metadata) IsZero() bool { return m == Metadata{} }

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
	// CloseRelaySessions ends, at the given time, every active session of
	// the relay whose Instance is not keepInstance — the sessions a dead
	// process of that relay left open — and returns how many it ended.
	// Their byte totals stay as last charged.
	CloseRelaySessions(ctx context.Context, relayID, keepInstance string, at time.Time) (int, error)
}

// SessionStats answers the questions the reserve check asks of sessions.
type SessionStats interface {
	// CountActiveSessions returns how many sessions of the app have not
	// ended.
	CountActiveSessions(ctx context.Context, appID string) (int, error)
	// UsageHistory returns the bytes charged to the app's ended sessions
	// and their total duration in whole seconds; both are zero for an app
	// without history.
	UsageHistory(ctx context.Context, appID string) (bytes, seconds int64, err error)
	// GatewayRelay returns the relay of an active session of the app
	// issued through the gateway with the given tag (the most recently
	// started one if there are several), or ErrNotFound.
	GatewayRelay(ctx context.Context, appID, gateway string) (string, error)
}

// Balance is an app's two-bucket balance, in bytes.
type Balance struct {
	// AppID is the app.
	AppID string
	// Subscription is what is left of the current period's allowance. It
	// is used first and does not roll over.
	Subscription int64
	// PAYG is the pay-as-you-go bucket: top-ups, never expiring. Usage may
	// push it below zero.
	PAYG int64
	// Allowance is the plan's allowance per period; zero means no plan.
	Allowance int64
	// PeriodStart is when the current subscription period began; zero
	// without a plan.
	PeriodStart time.Time
	// LowThreshold is the total below which the app is told its balance is
	// low; zero turns the notice off.
	LowThreshold int64
	// LowNotified is set when the notice fired and cleared when the total
	// rises to the threshold again, so it fires once per crossing.
	LowNotified bool
}

// Total returns Subscription + PAYG.
func (b Balance) Total() int64 { return b.Subscription + b.PAYG }

// LedgerEntry is one change to a balance. The journal of an app's entries
// is append-only, and its sums are the balance's buckets.
type LedgerEntry struct {
	// ID orders entries; the store assigns it, increasing.
	ID int64
	// AppID is the app.
	AppID string
	// At is when the change was made.
	At time.Time
	// Kind says what the change is: "topup", "usage", "plan", "refill".
	Kind string
	// Ref is the entry's reference, unique per app: a top-up's payment ID,
	// "usage:{session}:{seq}", "refill:{period}".
	Ref string
	// Subscription and PAYG are the changes to the two buckets.
	Subscription, PAYG int64
}

// Usage is one usage delta of a session, to charge exactly once.
type Usage struct {
	// SessionID and Seq identify the delta.
	SessionID string
	Seq       uint64
	// AppID is the app charged.
	AppID string
	// ToPeer and ToClient are the delta's bytes each way.
	ToPeer, ToClient int64
	// At is when the delta was taken.
	At time.Time
}

// BalanceFunc changes a balance and returns the entries that record the
// change. It runs inside the store's transaction and must not do I/O; an
// error aborts the transaction. It may run more than once if the store
// retries.
type BalanceFunc func(b *Balance) ([]LedgerEntry, error)

// Ledger stores balances and their journal. Each method that changes a
// balance is atomic: the balance and its entries are written together or
// not at all.
type Ledger interface {
	// Apply runs fn on the app's balance (the zero Balance if the app has
	// none yet) and stores the result and the entries fn returns. If the
	// app already has an entry with reference ref, nothing runs and applied
	// is false: a change is applied once however often it is submitted.
	Apply(ctx context.Context, appID, ref string, fn BalanceFunc) (applied bool, err error)
	// ApplyUsage charges one usage delta: if (u.SessionID, u.Seq) was not
	// applied before, it adds the bytes to the session's totals (when the
	// session is stored) and applies fn to the app's balance, all in one
	// transaction. A delta already applied yields applied false.
	ApplyUsage(ctx context.Context, u Usage, fn BalanceFunc) (applied bool, err error)
	// Balance returns the app's balance as stored (the zero Balance, with
	// AppID set, if it has none).
	Balance(ctx context.Context, appID string) (Balance, error)
	// Entries returns up to limit of the app's entries with an ID above
	// afterID, in ID order.
	Entries(ctx context.Context, appID string, afterID int64, limit int) ([]LedgerEntry, error)
}

// RelayRecord is a relay as the fleet knows it: what it announced and the
// load it last reported.
type RelayRecord struct {
	// ID identifies the relay.
	ID string
	// Region is the relay's region slug.
	Region string
	// Lat and Lon locate the relay, in degrees; HasLocation is false when
	// the relay announced none.
	Lat, Lon    float64
	HasLocation bool
	// URLs are the relay's ICE server URLs.
	URLs []string
	// Capacity is the allocations the relay takes at most; zero means no
	// stated limit.
	Capacity int
	// Instance identifies the running process of the relay.
	Instance string
	// Allocations and Bitrate are the load last reported: live
	// allocations and relayed bits per second.
	Allocations int
	Bitrate     int64
	// ReportedAt is when the relay last announced itself or reported.
	ReportedAt time.Time
	// Draining is set for a relay that keeps its sessions but takes no new
	// ones.
	Draining bool
}

// Relays is the registry of the fleet's relays.
type Relays interface {
	// AnnounceRelay stores a relay's identity and sets ReportedAt (and its
	// load) from r, adding the relay or replacing what it announced before.
	// Draining is kept as it was (false for a new relay).
	AnnounceRelay(ctx context.Context, r RelayRecord) error
	// ReportRelayLoad records a relay's load at the given time. It returns
	// ErrNotFound for a relay that never announced itself.
	ReportRelayLoad(ctx context.Context, id string, allocations int, bitrate int64, at time.Time) error
	// SetRelayDraining sets or clears a relay's draining flag. It returns
	// ErrNotFound for an unknown relay.
	SetRelayDraining(ctx context.Context, id string, draining bool) error
	// ListRelays returns every relay, ordered by ID.
	ListRelays(ctx context.Context) ([]RelayRecord, error)
	// RemoveRelay deletes the relay with the given ID if its Instance is
	// instance, as a relay does when it stops; a relay that another
	// instance announced since is kept. Removing a relay that is not
	// stored is not an error.
	RemoveRelay(ctx context.Context, id, instance string) error
}

// Settings stores small named values the deployment shares, such as the
// key gateway IDs are signed with.
type Settings interface {
	// Setting returns the value stored under name, or ErrNotFound.
	Setting(ctx context.Context, name string) ([]byte, error)
	// InitSetting stores value under name unless a value is stored there
	// already, and returns the stored value: the first writer wins, so
	// nodes racing to create a setting agree on one.
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
}

// ExchangeEntry is one address published in an exchange namespace.
type ExchangeEntry struct {
	// Addr is the published transport address, "ip:port".
	Addr string
	// First and Last are when it was first and last published.
	First, Last time.Time
}

// Publication is one address published in an exchange namespace, with
// the bounds to keep.
type Publication struct {
	// AppID and Namespace name the namespace; Addr is the transport
	// address ("ip:port") published.
	AppID, Namespace, Addr string
	// KeyID is the API key that publishes (empty when unknown).
	KeyID string
	// At is when it is published; entries last published before
	// ExpiredBefore are gone.
	At, ExpiredBefore time.Time
	// MaxAddrs bounds the namespace's live entries; MaxNamespaces the
	// app's live namespaces; MaxNamespacesPerKey, when positive and KeyID
	// is set, the live namespaces the key has published in.
	MaxAddrs, MaxNamespaces, MaxNamespacesPerKey int
}

// Exchanges stores exchange namespaces shared by many issuers. Entries
// whose Last is before the expiry time given to a call are gone for it.
type Exchanges interface {
	// PublishAddr adds p.Addr to the app's namespace at p.At, or refreshes
	// its Last (and its key), first deleting the namespace's entries last
	// published before p.ExpiredBefore. A new address that would make the
	// namespace hold more than MaxAddrs entries, a new namespace that would
	// give the app more than MaxNamespaces live ones, or one that would
	// put the key in more than MaxNamespacesPerKey live namespaces, is
	// refused with ErrLimit.
	PublishAddr(ctx context.Context, p Publication) error
	// NamespaceAddrs returns the namespace's entries last published at or
	// after expiredBefore, in the order they were first published.
	NamespaceAddrs(ctx context.Context, appID, namespace string, expiredBefore time.Time) ([]ExchangeEntry, error)
	// ExpireExchange deletes every entry last published before the given
	// time and returns how many it deleted.
	ExpireExchange(ctx context.Context, before time.Time) (int, error)
}

// CredentialMetadata keeps the metadata of issued credentials until their
// sessions start: the issuer stores it, keyed by the credential's TURN
// username, only when a request carries some, and the session that opens
// with that username copies it.
type CredentialMetadata interface {
	// PutCredentialMetadata stores m for username until expires, replacing
	// what was stored for it.
	PutCredentialMetadata(ctx context.Context, username string, m Metadata, expires time.Time) error
	// CredentialMetadata returns the metadata stored for username, or
	// ErrNotFound (also once it expired: entries whose expiry is before
	// now are gone for it).
	CredentialMetadata(ctx context.Context, username string, now time.Time) (Metadata, error)
	// ExpireCredentialMetadata deletes every entry that expired before the
	// given time and returns how many it deleted.
	ExpireCredentialMetadata(ctx context.Context, before time.Time) (int, error)
}

// UsageFunc changes a balance for one usage delta and returns the entries
// that record the change. It runs inside the store's transaction and must
// not do I/O; an error aborts the whole batch. It may run more than once if
// the store retries.
type UsageFunc func(b *Balance, u Usage) ([]LedgerEntry, error)

// UsageBatcher is an optional capability of a Store: charging many usage
// deltas in few transactions, as a relay with thousands of live
// allocations needs. Callers check for it with a type assertion and fall
// back to ApplyUsage.
type UsageBatcher interface {
	// ApplyUsageBatch charges each delta of us that was not applied before
	// (by (SessionID, Seq)), exactly as ApplyUsage would one at a time and
	// in the order given: the session's totals and, through fn, the app's
	// balance and journal. Deltas repeated within us or applied before are
	// skipped. It returns, for each delta of us, whether this call applied
	// it. On error nothing of the batch is applied.
	ApplyUsageBatch(ctx context.Context, us []Usage, fn UsageFunc) (applied []bool, err error)
}

// ChangeKind names what a Change is about.
type ChangeKind string

// The kinds of change that nodes sharing a store tell each other about, so
// their caches follow at once instead of within their TTL.
const (
	// ChangeKey: an API key (ID) was revoked.
	ChangeKey ChangeKind = "key"
	// ChangeApp: an app's (ID) status or regions changed.
	ChangeApp ChangeKind = "app"
	// ChangeSecrets: the relay key ring changed.
	ChangeSecrets ChangeKind = "secrets"
	// ChangeStaticCredential: a static credential (its TURN username as
	// ID) was deleted.
	ChangeStaticCredential ChangeKind = "static-credential"
	// ChangeRelays: the relay registry changed (a relay stopped or was
	// drained).
	ChangeRelays ChangeKind = "relays"
	// ChangeAll: notifications may have been missed (the subscription was
	// interrupted); every cache should be dropped.
	ChangeAll ChangeKind = "all"
)

// Change is one notification between nodes.
type Change struct {
	// Kind says what changed.
	Kind ChangeKind
	// ID names the thing that changed; empty for ChangeSecrets,
	// ChangeRelays and ChangeAll.
	ID string
}

// Notifier is an optional capability of a Store shared by many nodes: it
// carries changes to every node at once. Callers check for it with a type
// assertion; without it, nodes see changes within their cache TTL.
type Notifier interface {
	// Publish tells every node subscribed to the store, this one included,
	// of c. Delivery is best effort: subscribers must also expire their
	// caches on their own.
	Publish(ctx context.Context, c Change) error
	// Subscribe calls fn for every change published by any node, from one
	// goroutine, until ctx is done or the store is closed; then it returns
	// ctx's error or nil. When the subscription is interrupted and
	// resumed, fn gets a ChangeAll, as changes may have been missed.
	Subscribe(ctx context.Context, fn func(Change)) error
}

// SessionEnd is the end of one session, for SessionBatcher.
type SessionEnd struct {
	// ID is the session's ID.
	ID string
	// At is when it ended; it must not be the zero time.
	At time.Time
}

// SessionBatcher is an optional capability of a Store: opening and
// closing many sessions in one transaction each, as a relay whose
// allocations come and go by the thousand a second needs (one commit per
// session caps the rate of allocations, on a network database above all).
// Callers check for it with a type assertion and fall back to OpenSession
// and CloseSession.
type SessionBatcher interface {
	// OpenSessions stores new sessions, in one transaction, each as
	// OpenSession would; a session whose ID is stored already is left as
	// it is and is not an error (the start was delivered before).
	OpenSessions(ctx context.Context, ss []Session) error
	// CloseSessions ends sessions, in one transaction, each as
	// CloseSession would: a closed one keeps its first end time; an ID
	// that is not stored is skipped, not an error. An end at the zero time
	// is an error, and then nothing is closed.
	CloseSessions(ctx context.Context, ends []SessionEnd) error
}
