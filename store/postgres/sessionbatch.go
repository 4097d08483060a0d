package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

var _ store.SessionBatcher = (*Store)(nil)

// OpenSessions stores new sessions in one statement, skipping IDs that are
// stored already.
func (s *Store) OpenSessions(ctx context.Context, ss []store.Session) error {
	if len(ss) == 0 {
		return nil
	}
	n := len(ss)
	var (
		ids, apps, users, relays, instances, gateways, keys = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		rooms, initiators, receivers = make([]string, n), make([]string, n), make([]string, n)
		started, ended               = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		toPeer, toClient             = make([]int64, n), make([]int64, n)
	)
	for i, x := range ss {
		ids[i], apps[i], users[i], relays[i], instances[i] = x.ID, x.AppID, x.Username, x.RelayID, x.Instance
		gateways[i], keys[i] = x.Gateway, x.KeyID
		rooms[i], initiators[i], receivers[i] = x.Metadata.Room, x.Metadata.Initiator, x.Metadata.Receiver
		started[i], ended[i] = ts(x.StartedAt), ts(x.EndedAt)
		toPeer[i], toClient[i] = x.ToPeer, x.ToClient
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[],
				$8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
			ON CONFLICT (id) DO NOTHING`,
			ids, apps, users, relays, started, ended, instances, toPeer, toClient, gateways, keys, rooms, initiators, receivers)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: open %d sessions: %w", n, err) // inTx classified it
	}
	return nil
}

// CloseSessions ends sessions in one statement, skipping unknown IDs and
// keeping the first end time of closed ones.
func (s *Store) CloseSessions(ctx context.Context, ends []store.SessionEnd) error {
	if len(ends) == 0 {
		return nil
	}
	ids, ats := make([]string, len(ends)), make([]pgtype.Timestamptz, len(ends))
	for i, e := range ends {
		if e.At.IsZero() {
			return fmt.Errorf("postgres: close session %q: end time is the zero time", e.ID)
		}
		ids[i], ats[i] = e.ID, ts(e.At)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// An ID given twice ends at its first time, as in the order given.
		_, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = coalesce(sessions.ended_at, e.at)
			FROM (SELECT DISTINCT ON (id) id, at FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS u(id, at, n)
				ORDER BY id, n) AS e
			WHERE sessions.id = e.id`, ids, ats)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: close %d sessions: %w", len(ends), err) // inTx classified it
	}
	return nil
}
