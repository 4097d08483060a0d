package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// OpenSession stores a new active session.
func (s *Store) OpenSession(ctx context.Context, x store.Session) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO sessions (id, app_id, username, relay_id, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)`,
		x.ID, x.AppID, x.Username, x.RelayID, toNanos(x.StartedAt), toNanos(x.EndedAt))
	switch {
	case isUnique(err):
		return fmt.Errorf("sqlite: session %q: %w", x.ID, store.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: open session %q: %w", x.ID, err)
	}
	return nil
}

// CloseSession ends a session, keeping the first end time.
func (s *Store) CloseSession(ctx context.Context, id string, at time.Time) error {
	err := s.execOne(ctx, store.ErrNotFound,
		`UPDATE sessions SET ended_at = CASE WHEN ended_at = 0 THEN ? ELSE ended_at END WHERE id = ?`, toNanos(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: close session %q: %w", id, err)
	}
	return nil
}

// Session returns a session.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	var x store.Session
	var started, ended int64
	err := s.r.QueryRowContext(ctx,
		`SELECT id, app_id, username, relay_id, started_at, ended_at FROM sessions WHERE id = ?`, id).
		Scan(&x.ID, &x.AppID, &x.Username, &x.RelayID, &started, &ended)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Session{}, fmt.Errorf("sqlite: session %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Session{}, fmt.Errorf("sqlite: session %q: %w", id, err)
	}
	x.StartedAt, x.EndedAt = fromNanos(started), fromNanos(ended)
	return x, nil
}

// CountActiveSessions counts an app's sessions that have not ended.
func (s *Store) CountActiveSessions(ctx context.Context, appID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE app_id = ? AND ended_at = 0`, appID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: active sessions of app %q: %w", appID, err)
	}
	return n, nil
}
