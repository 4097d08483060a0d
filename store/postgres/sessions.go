package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// OpenSession stores a new session. It returns an error wrapping
// store.ErrExists if a session with the same ID is stored. The session is
// stored as given: one with a non-zero EndedAt is stored closed.
func (s *Store) OpenSession(ctx context.Context, sess store.Session) error {
	m := sess.Metadata
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		sess.ID, sess.AppID, sess.Username, sess.RelayID, ts(sess.StartedAt), ts(sess.EndedAt), sess.Instance,
		sess.ToPeer, sess.ToClient, sess.Gateway, sess.KeyID, m.Room, m.Initiator, m.Receiver)
	if err != nil {
		return fmt.Errorf("postgres: session %q: %w", sess.ID, classify(ctx, err))
	}
	return nil
}

// CloseSession ends a session at the given time. Closing a closed session
// keeps the first end time and is not an error. It returns an error
// wrapping store.ErrNotFound if there is no such session, and an error if at
// is the zero time, which would mean "still active".
func (s *Store) CloseSession(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("postgres: session %q: end time is the zero time", id)
	}
	if err := s.execOne(ctx, `UPDATE sessions SET ended_at = coalesce(ended_at, $1) WHERE id = $2`, ts(at), id); err != nil {
		return fmt.Errorf("postgres: session %q: %w", id, err)
	}
	return nil
}

// sessionColumns are the columns of a session, in the order scanSession
// reads them and the inserts give them.
const sessionColumns = `id, app_id, username, relay_id, started_at, ended_at, instance, to_peer, to_client,
	gateway, key_id, room, initiator, receiver`

// Session returns the session with the given ID, or an error wrapping
// store.ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return store.Session{}, fmt.Errorf("postgres: session %q: %w", id, classify(ctx, err))
	}
	return sess, nil
}

// scanSession reads a sessions row selected as sessionColumns.
func scanSession(row pgx.Row) (store.Session, error) {
	var (
		sess           store.Session
		started, ended pgtype.Timestamptz
		m              = &sess.Metadata
	)
	if err := row.Scan(&sess.ID, &sess.AppID, &sess.Username, &sess.RelayID, &started, &ended, &sess.Instance,
		&sess.ToPeer, &sess.ToClient, &sess.Gateway, &sess.KeyID, &m.Room, &m.Initiator, &m.Receiver); err != nil {
		return store.Session{}, err
	}
	sess.StartedAt, sess.EndedAt = fromTS(started), fromTS(ended)
	return sess, nil
}

// CloseRelaySessions ends, at the given time, the active sessions of
// relayID whose instance is not keepInstance, and returns how many it
// ended.
func (s *Store) CloseRelaySessions(ctx context.Context, relayID, keepInstance string, at time.Time) (int, error) {
	if at.IsZero() {
		return 0, fmt.Errorf("postgres: close sessions of relay %q: end time is the zero time", relayID)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET ended_at = $1
		WHERE relay_id = $2 AND ended_at IS NULL AND instance <> $3`, ts(at), relayID, keepInstance)
	if err != nil {
		return 0, fmt.Errorf("postgres: close sessions of relay %q: %w", relayID, classify(ctx, err))
	}
	return int(tag.RowsAffected()), nil
}

// CountActiveSessions returns how many sessions of the app have not ended;
// 0 for an unknown app.
func (s *Store) CountActiveSessions(ctx context.Context, appID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE app_id = $1 AND ended_at IS NULL`, appID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: active sessions of app %q: %w", appID, classify(ctx, err))
	}
	return n, nil
}

// UsageHistory sums the bytes charged to the app's ended sessions and their
// durations, in whole seconds (the sum of the exact durations, truncated).
func (s *Store) UsageHistory(ctx context.Context, appID string) (bytes, seconds int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT coalesce(sum(to_peer + to_client), 0)::bigint,
			trunc(coalesce(sum(extract(epoch FROM ended_at) - extract(epoch FROM started_at)), 0))::bigint
		FROM sessions WHERE app_id = $1 AND ended_at IS NOT NULL AND started_at IS NOT NULL`, appID).Scan(&bytes, &seconds)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: usage history of app %q: %w", appID, classify(ctx, err))
	}
	return bytes, seconds, nil
}

// GatewayRelay returns the relay of the app's latest active session issued
// through the gateway tag (the one added last among equal start times), or
// an error wrapping store.ErrNotFound.
func (s *Store) GatewayRelay(ctx context.Context, appID, gateway string) (string, error) {
	var relay string
	err := s.pool.QueryRow(ctx, `SELECT relay_id FROM sessions
		WHERE app_id = $1 AND gateway = $2 AND gateway <> '' AND ended_at IS NULL
		ORDER BY started_at DESC, seq DESC LIMIT 1`, appID, gateway).Scan(&relay)
	if err != nil {
		return "", fmt.Errorf("postgres: gateway %q of app %q: %w", gateway, appID, classify(ctx, err))
	}
	return relay, nil
}
