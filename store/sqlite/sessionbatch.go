package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/turnkit/turnkit/store"
)

var _ store.SessionBatcher = (*Store)(nil)

// OpenSessions stores new sessions in one transaction, skipping IDs that
// are stored already.
func (s *Store) OpenSessions(ctx context.Context, ss []store.Session) error {
	if len(ss) == 0 {
		return nil
	}
	_, err := s.tx(ctx, func(tx *sql.Tx) (bool, error) {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO sessions (`+sessionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return false, err
		}
		defer stmt.Close()
		for _, sess := range ss {
			started, err := nanos(sess.StartedAt)
			if err != nil {
				return false, fmt.Errorf("session %q: started at: %w", sess.ID, err)
			}
			ended, err := nanos(sess.EndedAt)
			if err != nil {
				return false, fmt.Errorf("session %q: ended at: %w", sess.ID, err)
			}
			m := sess.Metadata
			if _, err := stmt.ExecContext(ctx, sess.ID, sess.AppID, sess.Username, sess.RelayID, started, ended, sess.Instance,
				sess.ToPeer, sess.ToClient, sess.Gateway, sess.KeyID, m.Room, m.Initiator, m.Receiver); err != nil {
				return false, fmt.Errorf("session %q: %w", sess.ID, classify(err))
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: open %d sessions: %w", len(ss), err)
	}
	return nil
}

// CloseSessions ends sessions in one transaction, skipping unknown IDs and
// keeping the first end time of closed ones.
func (s *Store) CloseSessions(ctx context.Context, ends []store.SessionEnd) error {
	if len(ends) == 0 {
		return nil
	}
	ats := make([]sql.NullInt64, len(ends))
	for i, e := range ends {
		if e.At.IsZero() {
			return fmt.Errorf("sqlite: close session %q: end time is the zero time", e.ID)
		}
		at, err := nanos(e.At)
		if err != nil {
			return fmt.Errorf("sqlite: close session %q: %w", e.ID, err)
		}
		ats[i] = at
	}
	_, err := s.tx(ctx, func(tx *sql.Tx) (bool, error) {
		stmt, err := tx.PrepareContext(ctx, `UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?`)
		if err != nil {
			return false, err
		}
		defer stmt.Close()
		for i, e := range ends {
			if _, err := stmt.ExecContext(ctx, ats[i], e.ID); err != nil {
				return false, fmt.Errorf("session %q: %w", e.ID, err)
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: close %d sessions: %w", len(ends), err)
	}
	return nil
}
