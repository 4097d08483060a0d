package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// PutCredentialMetadata stores m for username until expires, replacing
// what was stored for it. It returns an error if expires is the zero time.
func (s *Store) PutCredentialMetadata(ctx context.Context, username string, m store.Metadata, expires time.Time) error {
	if expires.IsZero() {
		return fmt.Errorf("postgres: metadata of credential %q: expiry is the zero time", username)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO credential_metadata (username, room, initiator, receiver, expires)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (username) DO UPDATE SET room = excluded.room, initiator = excluded.initiator,
			receiver = excluded.receiver, expires = excluded.expires`,
		username, m.Room, m.Initiator, m.Receiver, expires)
	if err != nil {
		return fmt.Errorf("postgres: metadata of credential %q: %w", username, classify(ctx, err))
	}
	return nil
}

// CredentialMetadata returns the metadata stored for username that has not
// expired at now, or an error wrapping store.ErrNotFound.
func (s *Store) CredentialMetadata(ctx context.Context, username string, now time.Time) (store.Metadata, error) {
	var m store.Metadata
	err := s.pool.QueryRow(ctx, `SELECT room, initiator, receiver FROM credential_metadata
		WHERE username = $1 AND expires >= $2`, username, now).Scan(&m.Room, &m.Initiator, &m.Receiver)
	if err != nil {
		return store.Metadata{}, fmt.Errorf("postgres: metadata of credential %q: %w", username, classify(ctx, err))
	}
	return m, nil
}

// ExpireCredentialMetadata deletes every entry that expired before the
// given time and returns how many it deleted.
func (s *Store) ExpireCredentialMetadata(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM credential_metadata WHERE expires < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: expire credential metadata: %w", classify(ctx, err))
	}
	return int(tag.RowsAffected()), nil
}
