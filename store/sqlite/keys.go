package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// keyColumns are the columns of an API key, in the order scanKey reads
// them and AddKey gives them.
const keyColumns = `id, app_id, hash, created_at, revoked_at`

// AddKey stores a new API key. It returns an error wrapping store.ErrExists
// if a key with the same ID or hash is stored, and one wrapping
// store.ErrNotFound if the key's app does not exist.
func (s *Store) AddKey(ctx context.Context, key store.APIKey) error {
	created, err := nanos(key.CreatedAt)
	if err != nil {
		return fmt.Errorf("sqlite: key %q: created at: %w", key.ID, err)
	}
	revoked, err := nanos(key.RevokedAt)
	if err != nil {
		return fmt.Errorf("sqlite: key %q: revoked at: %w", key.ID, err)
	}
	// The app check is part of the statement, so it holds whatever the
	// connection's foreign_keys setting (see New).
	n, err := s.write(ctx, `INSERT INTO api_keys (`+keyColumns+`)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM apps WHERE id = ?)`,
		key.ID, key.AppID, key.Hash[:], created, revoked, key.AppID)
	if err == nil && n == 0 {
		err = fmt.Errorf("app %q: %w", key.AppID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: key %q: %w", key.ID, err)
	}
	return nil
}

// KeyByHash returns the API key with the given hash, revoked or not, or an
// error wrapping store.ErrNotFound.
func (s *Store) KeyByHash(ctx context.Context, hash [32]byte) (store.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash[:]))
	if err != nil {
		// The hash is not secret, but a prefix is enough to tell keys apart.
		return store.APIKey{}, fmt.Errorf("sqlite: key with hash %x…: %w", hash[:4], notFound(err))
	}
	return k, nil
}

// Key returns the API key with the given ID, revoked or not, or an error
// wrapping store.ErrNotFound.
func (s *Store) Key(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return store.APIKey{}, fmt.Errorf("sqlite: key %q: %w", id, notFound(err))
	}
	return k, nil
}

// RevokeKey marks an API key revoked at the given time. Revoking a revoked
// key keeps the first revocation time and is not an error. It returns an
// error wrapping store.ErrNotFound if there is no such key, and an error if
// at is the zero time, which would mean "not revoked".
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlite: key %q: revocation time is the zero time", id)
	}
	revoked, err := nanos(at)
	if err != nil {
		return fmt.Errorf("sqlite: key %q: revoked at: %w", id, err)
	}
	if err := s.writeOne(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, revoked, id); err != nil {
		return fmt.Errorf("sqlite: key %q: %w", id, err)
	}
	return nil
}

// AppKeys returns the API keys of an app, revoked ones included, oldest
// first; keys created at the same time come in the order they were added.
// An app without keys yields an empty slice and no error.
func (s *Store) AppKeys(ctx context.Context, appID string) ([]store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys
		WHERE app_id = ? ORDER BY created_at, rowid`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys of app %q: %w", appID, err)
	}
	keys, err := collect(rows, scanKey)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys of app %q: %w", appID, err)
	}
	return keys, nil
}

// scanKey reads an api_keys row selected as keyColumns.
func scanKey(row scanner) (store.APIKey, error) {
	var (
		k                store.APIKey
		hash             []byte
		created, revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.AppID, &hash, &created, &revoked); err != nil {
		return store.APIKey{}, err
	}
	h, err := toHash(hash)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("key %q: %w", k.ID, err)
	}
	k.Hash, k.CreatedAt, k.RevokedAt = h, fromNanos(created), fromNanos(revoked)
	return k, nil
}
