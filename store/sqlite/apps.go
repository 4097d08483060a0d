package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// CreateApp stores a new app.
func (s *Store) CreateApp(ctx context.Context, app store.App) error {
	if !app.Status.Valid() {
		return fmt.Errorf("sqlite: app %q: invalid status %q", app.ID, app.Status)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO apps (id, name, status, created_at) VALUES (?, ?, ?, ?)`,
		app.ID, app.Name, string(app.Status), toNanos(app.CreatedAt))
	switch {
	case isUnique(err):
		return fmt.Errorf("sqlite: app %q: %w", app.ID, store.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: create app %q: %w", app.ID, err)
	}
	return nil
}

// App returns the app with the given ID.
func (s *Store) App(ctx context.Context, id string) (store.App, error) {
	var a store.App
	var status string
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, status, created_at FROM apps WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, &status, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.App{}, fmt.Errorf("sqlite: app %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.App{}, fmt.Errorf("sqlite: app %q: %w", id, err)
	}
	a.Status, a.CreatedAt = store.AppStatus(status), fromNanos(created)
	return a, nil
}

// SetAppStatus changes an app's status.
func (s *Store) SetAppStatus(ctx context.Context, id string, status store.AppStatus) error {
	if !status.Valid() {
		return fmt.Errorf("sqlite: app %q: invalid status %q", id, status)
	}
	err := s.execOne(ctx, store.ErrNotFound, `UPDATE apps SET status = ? WHERE id = ?`, string(status), id)
	if err != nil {
		return fmt.Errorf("sqlite: app %q status %s: %w", id, status, err)
	}
	return nil
}

// AddKey stores a new API key.
func (s *Store) AddKey(ctx context.Context, k store.APIKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_keys (id, app_id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.AppID, k.Hash[:], toNanos(k.CreatedAt), toNanos(k.RevokedAt))
	switch {
	case isUnique(err):
		return fmt.Errorf("sqlite: key %q: %w", k.ID, store.ErrExists)
	case isForeignKey(err):
		return fmt.Errorf("sqlite: key %q: app %q: %w", k.ID, k.AppID, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: add key %q: %w", k.ID, err)
	}
	return nil
}

const keyColumns = `id, app_id, hash, created_at, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var hash []byte
	var created, revoked int64
	if err := row.Scan(&k.ID, &k.AppID, &hash, &created, &revoked); err != nil {
		return store.APIKey{}, err
	}
	copy(k.Hash[:], hash)
	k.CreatedAt, k.RevokedAt = fromNanos(created), fromNanos(revoked)
	return k, nil
}

// KeyByHash returns the key with the given hash.
func (s *Store) KeyByHash(ctx context.Context, hash [32]byte) (store.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash[:]))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.APIKey{}, fmt.Errorf("sqlite: key by hash: %w", store.ErrNotFound)
	case err != nil:
		return store.APIKey{}, fmt.Errorf("sqlite: key by hash: %w", err)
	}
	return k, nil
}

// RevokeKey marks a key revoked, keeping the first revocation time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	err := s.execOne(ctx, store.ErrNotFound,
		`UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`,
		toNanos(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke key %q: %w", id, err)
	}
	return nil
}

// AppKeys returns an app's keys, oldest first.
func (s *Store) AppKeys(ctx context.Context, appID string) ([]store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE app_id = ? ORDER BY created_at, rowid`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys of app %q: %w", appID, err)
	}
	defer rows.Close()
	out := []store.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys of app %q: %w", appID, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys of app %q: %w", appID, err)
	}
	return out, nil
}
