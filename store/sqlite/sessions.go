package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// OpenSession stores a new session. It returns an error wrapping
// store.ErrExists if a session with the same ID is stored. The session is
// stored as given: one with a non-zero EndedAt is stored closed.
func (s *Store) OpenSession(ctx context.Context, sess store.Session) error {
	started, err := nanos(sess.StartedAt)
	if err != nil {
		return fmt.Errorf("sqlite: session %q: started at: %w", sess.ID, err)
	}
	ended, err := nanos(sess.EndedAt)
	if err != nil {
		return fmt.Errorf("sqlite: session %q: ended at: %w", sess.ID, err)
	}
	m := sess.Metadata
	_, err = s.write(ctx, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sess.ID, sess.AppID, sess.Username, sess.RelayID, started, ended,
		sess.Instance, sess.ToPeer, sess.ToClient, sess.Gateway, sess.KeyID, m.Room, m.Initiator, m.Receiver)
	if err != nil {
		return fmt.Errorf("sqlite: session %q: %w", sess.ID, err)
	}
	return nil
}

// CloseSession ends a session at the given time. Closing a closed session
// keeps the first end time and is not an error. It returns an error
// wrapping store.ErrNotFound if there is no such session, and an error if at
// is the zero time, which would mean "still active".
func (s *Store) CloseSession(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlite: session %q: end time is the zero time", id)
	}
	ended, err := nanos(at)
	if err != nil {
		return fmt.Errorf("sqlite: session %q: ended at: %w", id, err)
	}
	if err := s.writeOne(ctx, `UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?`, ended, id); err != nil {
		return fmt.Errorf("sqlite: session %q: %w", id, err)
	}
	return nil
}

// sessionColumns are the columns of a session, in the order scanSession
// reads them and the inserts give them.
const sessionColumns = `id, app_id, username, relay_id, started_at, ended_at, instance, to_peer, to_client, gateway,
	key_id, room, initiator, receiver`

// Session returns the session with the given ID, or an error wrapping
// store.ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	sess, err := scanSession(s.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlite: session %q: %w", id, notFound(err))
	}
	return sess, nil
}

// scanSession reads a sessions row selected as sessionColumns.
func scanSession(row scanner) (store.Session, error) {
	var (
		sess           store.Session
		started, ended sql.NullInt64
		m              = &sess.Metadata
	)
	if err := row.Scan(&sess.ID, &sess.AppID, &sess.Username, &sess.RelayID, &started, &ended, &sess.Instance,
		&sess.ToPeer, &sess.ToClient, &sess.Gateway, &sess.KeyID, &m.Room, &m.Initiator, &m.Receiver); err != nil {
		return store.Session{}, err
	}
	sess.StartedAt, sess.EndedAt = fromNanos(started), fromNanos(ended)
	return sess, nil
}

// CountActiveSessions returns how many sessions of the app have not ended;
// 0 for an unknown app.
func (s *Store) CountActiveSessions(ctx context.Context, appID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE app_id = ? AND ended_at IS NULL`, appID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: active sessions of app %q: %w", appID, err)
	}
	return n, nil
}

// CloseRelaySessions ends the active sessions of relayID whose instance is
// not keepInstance, and returns how many it ended.
func (s *Store) CloseRelaySessions(ctx context.Context, relayID, keepInstance string, at time.Time) (int, error) {
	if at.IsZero() {
		return 0, fmt.Errorf("sqlite: close sessions of relay %q: end time is the zero time", relayID)
	}
	ended, err := nanos(at)
	if err != nil {
		return 0, fmt.Errorf("sqlite: close sessions of relay %q: %w", relayID, err)
	}
	n, err := s.write(ctx, `UPDATE sessions SET ended_at = ? WHERE relay_id = ? AND ended_at IS NULL AND instance != ?`,
		ended, relayID, keepInstance)
	if err != nil {
		return 0, fmt.Errorf("sqlite: close sessions of relay %q: %w", relayID, err)
	}
	return int(n), nil
}

// UsageHistory sums the bytes charged to the app's ended sessions and their
// durations in whole seconds.
func (s *Store) UsageHistory(ctx context.Context, appID string) (bytes, seconds int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT coalesce(sum(to_peer + to_client), 0),
		coalesce(sum(ended_at - started_at), 0) / 1000000000
		FROM sessions WHERE app_id = ? AND ended_at IS NOT NULL AND started_at IS NOT NULL`, appID).Scan(&bytes, &seconds)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: usage history of app %q: %w", appID, err)
	}
	return bytes, seconds, nil
}

// GatewayRelay returns the relay of the app's latest active session issued
// through the gateway tag.
func (s *Store) GatewayRelay(ctx context.Context, appID, gateway string) (string, error) {
	var relay string
	err := s.r.QueryRowContext(ctx, `SELECT relay_id FROM sessions
		WHERE app_id = ? AND gateway = ? AND gateway != '' AND ended_at IS NULL
		ORDER BY started_at DESC, rowid DESC LIMIT 1`, appID, gateway).Scan(&relay)
	if err != nil {
		return "", fmt.Errorf("sqlite: gateway %q of app %q: %w", gateway, appID, notFound(err))
	}
	return relay, nil
}
