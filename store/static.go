package store

import (
	"context"
	"time"
)

// StaticCredential is a persistent TURN credential: a fixed username and
// password that the relay accepts until the credential is deleted or
// expires, as Metered's API creates them. Each one has its own front-end
// API key, which fetches only this credential's ICE servers and dies with
// it; the key itself is never stored, only its SHA-256.
type StaticCredential struct {
	// Username is the TURN username. It is never in turnkit's REST API
	// form (no ':'), so the relay tells the two kinds apart by parsing.
	Username string
	// Password is the TURN password, kept as is: the relay derives the
	// long-term key MD5(username:realm:password) from it.
	Password string
	// Label is a name people give the credential; it may be empty.
	Label string
	// AppID is the app whose sessions and bill the credential's
	// allocations count in.
	AppID string
	// APIKeyHash is the SHA-256 of the credential's front-end API key.
	APIKeyHash [32]byte
	// CreatedAt is when the credential was created.
	CreatedAt time.Time
	// ExpiresAt is when the credential stops opening allocations; zero
	// means never.
	ExpiresAt time.Time
}

// Expired reports whether the credential has expired at now.
func (c StaticCredential) Expired(now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// StaticQuery selects an app's static credentials for listing.
type StaticQuery struct {
	// AppID is the app whose credentials are listed. Required.
	AppID string
	// Label, if set, keeps only the credentials with exactly this label.
	Label string
	// ActiveAt, if not zero, keeps only the credentials that have not
	// expired at it (ExpiresAt zero or after it).
	ActiveAt time.Time
	// Offset skips that many matching credentials; Limit returns at most
	// that many (every one from Offset on when zero or negative).
	Offset, Limit int
}

// StaticMatch names the static credentials of an app to delete: the one
// with Username, or every one with Label. Exactly one of them is set.
type StaticMatch struct {
	Username string
	Label    string
}

// StaticCredentials stores static credentials.
type StaticCredentials interface {
	// CreateStaticCredential stores a new credential. It returns ErrExists
	// if a credential with the same username or API key hash is stored,
	// and ErrNotFound if the app does not exist.
	CreateStaticCredential(ctx context.Context, c StaticCredential) error
	// StaticCredential returns the credential with the given username,
	// expired or not, or ErrNotFound.
	StaticCredential(ctx context.Context, username string) (StaticCredential, error)
	// StaticCredentialByAPIKey returns the credential whose front-end API
	// key has the given hash, expired or not, or ErrNotFound.
	StaticCredentialByAPIKey(ctx context.Context, hash [32]byte) (StaticCredential, error)
	// ListStaticCredentials returns the page of the app's credentials
	// that q selects, oldest first (by CreatedAt, then Username), and how
	// many match q in all, whatever Offset and Limit. An app without
	// credentials yields an empty slice, 0 and no error.
	ListStaticCredentials(ctx context.Context, q StaticQuery) (page []StaticCredential, total int, err error)
	// DeleteStaticCredentials deletes the app's credentials that m names
	// and returns their usernames: empty, and no error, when none match.
	// Another app's credentials are never deleted. It returns an error,
	// deleting nothing, unless exactly one of m's fields is set.
	DeleteStaticCredentials(ctx context.Context, appID string, m StaticMatch) ([]string, error)
}
