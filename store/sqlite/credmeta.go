package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// PutCredentialMetadata stores the metadata of a credential until it
// expires, replacing what was stored for the username.
func (s *Store) PutCredentialMetadata(ctx context.Context, username string, m store.Metadata, expires time.Time) error {
	exp, err := nanos(expires)
	if err != nil {
		return fmt.Errorf("sqlite: metadata of credential %q: %w", username, err)
	}
	_, err = s.write(ctx, `INSERT INTO credential_metadata (username, room, initiator, receiver, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (username) DO UPDATE SET room = excluded.room, initiator = excluded.initiator,
			receiver = excluded.receiver, expires_at = excluded.expires_at`,
		username, m.Room, m.Initiator, m.Receiver, exp)
	if err != nil {
		return fmt.Errorf("sqlite: metadata of credential %q: %w", username, err)
	}
	return nil
}

// CredentialMetadata returns the metadata stored for a credential that has
// not expired at now, or an error wrapping store.ErrNotFound.
func (s *Store) CredentialMetadata(ctx context.Context, username string, now time.Time) (store.Metadata, error) {
	at, err := nanos(now)
	if err != nil {
		return store.Metadata{}, fmt.Errorf("sqlite: metadata of credential %q: %w", username, err)
	}
	var m store.Metadata
	err = s.r.QueryRowContext(ctx, `SELECT room, initiator, receiver FROM credential_metadata WHERE username = ? AND expires_at >= ?`,
		username, at).Scan(&m.Room, &m.Initiator, &m.Receiver)
	if err != nil {
		return store.Metadata{}, fmt.Errorf("sqlite: metadata of credential %q: %w", username, notFound(err))
	}
	return m, nil
}

// ExpireCredentialMetadata deletes the metadata of credentials that expired
// before the given time.
func (s *Store) ExpireCredentialMetadata(ctx context.Context, before time.Time) (int, error) {
	at, err := nanos(before)
	if err != nil {
		return 0, fmt.Errorf("sqlite: expire credential metadata: %w", err)
	}
	n, err := s.write(ctx, `DELETE FROM credential_metadata WHERE expires_at < ?`, at)
	if err != nil {
		return 0, fmt.Errorf("sqlite: expire credential metadata: %w", err)
	}
	return int(n), nil
}
