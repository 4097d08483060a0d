package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/turnkit/turnkit/store"
)

var _ store.UsageBatcher = (*Store)(nil)

// ApplyUsageBatch charges the deltas of us that were not applied before,
// in the order given, in one transaction on the writer: it records the
// deltas (skipping repeats), adds them to the sessions' totals, runs fn for
// each delta on the balance as the deltas before it left it, and writes
// each balance once and the journal. It returns, for each delta, whether
// this call applied it; on error, nothing of the batch is applied.
func (s *Store) ApplyUsageBatch(ctx context.Context, us []store.Usage, fn store.UsageFunc) ([]bool, error) {
	applied := make([]bool, len(us))
	if len(us) == 0 {
		return applied, nil
	}
	ats := make([]sql.NullInt64, len(us))
	for i, u := range us {
		at, err := nanos(u.At)
		if err != nil {
			return nil, fmt.Errorf("sqlite: usage %s#%d: %w", u.SessionID, u.Seq, err)
		}
		ats[i] = at
	}
	_, err := s.tx(ctx, func(tx *sql.Tx) (bool, error) {
		clear(applied)
		if err := recordUsage(ctx, tx, us, ats, applied); err != nil {
			return false, err
		}
		if err := addToSessions(ctx, tx, us, applied); err != nil {
			return false, err
		}
		return true, chargeBatch(ctx, tx, us, applied, fn)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: usage batch of %d: %w", len(us), err)
	}
	return applied, nil
}

// recordUsage records each delta that is not recorded yet, and sets
// applied for those it recorded. The first statement of the transaction is
// this write, so it waits for the write lock as long as the busy timeout
// allows.
func recordUsage(ctx context.Context, tx *sql.Tx, us []store.Usage, ats []sql.NullInt64, applied []bool) error {
	record, err := tx.PrepareContext(ctx, `INSERT INTO usage_applied (session_id, seq, app_id, at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer record.Close()
	for i, u := range us {
		res, err := record.ExecContext(ctx, u.SessionID, int64(u.Seq), u.AppID, ats[i])
		if err != nil {
			return classify(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		applied[i] = n > 0
	}
	return nil
}

// addToSessions adds the applied deltas to their sessions' totals, one
// update per session.
func addToSessions(ctx context.Context, tx *sql.Tx, us []store.Usage, applied []bool) error {
	var order []string
	totals := map[string]*[2]int64{}
	for i, u := range us {
		if !applied[i] {
			continue
		}
		t := totals[u.SessionID]
		if t == nil {
			t = new([2]int64)
			totals[u.SessionID] = t
			order = append(order, u.SessionID)
		}
		t[0] += u.ToPeer
		t[1] += u.ToClient
	}
	if len(order) == 0 {
		return nil
	}
	add, err := tx.PrepareContext(ctx, `UPDATE sessions SET to_peer = to_peer + ?, to_client = to_client + ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer add.Close()
	for _, id := range order {
		if _, err := add.ExecContext(ctx, totals[id][0], totals[id][1], id); err != nil {
			return err
		}
	}
	return nil
}

// chargeBatch runs fn for each applied delta, in order, on its app's
// balance as the deltas before it left it (see charge), and writes every
// balance it changed and the entries.
func chargeBatch(ctx context.Context, tx *sql.Tx, us []store.Usage, applied []bool, fn store.UsageFunc) error {
	var (
		order    []string
		balances = map[string]*store.Balance{}
		entries  []store.LedgerEntry
	)
	for i, u := range us {
		if !applied[i] {
			continue
		}
		b := balances[u.AppID]
		if b == nil {
			loaded, err := loadBalance(ctx, tx, u.AppID)
			if err != nil {
				return err
			}
			b = &loaded
			balances[u.AppID] = b
			order = append(order, u.AppID)
		}
		es, err := charge(b, func(b *store.Balance) ([]store.LedgerEntry, error) { return fn(b, u) })
		if err != nil {
			return fmt.Errorf("usage %s#%d: %w", u.SessionID, u.Seq, err)
		}
		entries = append(entries, es...)
	}
	for _, app := range order {
		if err := putBalance(ctx, tx, *balances[app]); err != nil {
			return fmt.Errorf("app %q: %w", app, err)
		}
	}
	return addEntries(ctx, tx, entries)
}
