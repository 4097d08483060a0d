package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// keyColumns are the columns of an API key, in the order scanKey reads
// them and AddKey gives them.
const keyColumns = `id, app_id, hash, created_at, revoked_at`

// AddKey stores a new API key. It returns an error wrapping store.ErrExists
// if a key with the same ID or hash is stored, and one wrapping
// store.ErrNotFound if the key's app does not exist.
func (s *Store) AddKey(ctx context.Context, key store.APIKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		key.ID, key.AppID, key.Hash[:], ts(key.CreatedAt), ts(key.RevokedAt))
	if err != nil {
		err = classify(ctx, err)
		if hasCode(err, foreignKeyViolation) {
			err = fmt.Errorf("app %q: %w", key.AppID, err)
		}
		return fmt.Errorf("postgres: key %q: %w", key.ID, err)
	}
	return nil
}

// KeyByHash returns the API key with the given hash, revoked or not, or an
// error wrapping store.ErrNotFound.
func (s *Store) KeyByHash(ctx context.Context, hash [32]byte) (store.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash[:]))
	if err != nil {
		// The hash is not secret, but a prefix is enough to tell keys apart.
		return store.APIKey{}, fmt.Errorf("postgres: key with hash %x…: %w", hash[:4], classify(ctx, err))
	}
	return k, nil
}

// Key returns the API key with the given ID, revoked or not, or an error
// wrapping store.ErrNotFound.
func (s *Store) Key(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return store.APIKey{}, fmt.Errorf("postgres: key %q: %w", id, classify(ctx, err))
	}
	return k, nil
}

// RevokeKey marks an API key revoked at the given time. Revoking a revoked
// key keeps the first revocation time and is not an error. It returns an
// error wrapping store.ErrNotFound if there is no such key, and an error if
// at is the zero time, which would mean "not revoked".
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("postgres: key %q: revocation time is the zero time", id)
	}
	if err := s.execOne(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, ts(at), id); err != nil {
		return fmt.Errorf("postgres: key %q: %w", id, err)
	}
	return nil
}

// AppKeys returns the API keys of an app, revoked ones included, oldest
// first; keys created at the same time come in the order they were added.
// An app without keys yields an empty slice and no error.
func (s *Store) AppKeys(ctx context.Context, appID string) ([]store.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE app_id = $1 ORDER BY created_at, seq`, appID)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys of app %q: %w", appID, classify(ctx, err))
	}
	keys, err := pgx.CollectRows(rows, rowTo(scanKey))
	if err != nil {
		return nil, fmt.Errorf("postgres: keys of app %q: %w", appID, classify(ctx, err))
	}
	return keys, nil
}

// scanKey reads an api_keys row selected as keyColumns.
func scanKey(row pgx.Row) (store.APIKey, error) {
	var (
		k                store.APIKey
		hash             []byte
		created, revoked pgtype.Timestamptz
	)
	if err := row.Scan(&k.ID, &k.AppID, &hash, &created, &revoked); err != nil {
		return store.APIKey{}, err
	}
	h, err := toHash(hash)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("key %q: %w", k.ID, err)
	}
	k.Hash, k.CreatedAt, k.RevokedAt = h, fromTS(created), fromTS(revoked)
	return k, nil
}
