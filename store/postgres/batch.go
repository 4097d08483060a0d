package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// usageKey identifies a usage delta.
type usageKey struct {
	session string
	seq     int64
}

// ApplyUsageBatch charges the deltas of us that were not applied before,
// in the order given, in one transaction of five round trips whatever the
// size of the batch: it records the deltas (skipping repeats), locks and
// adds to the sessions' totals, locks the apps' balances, runs fn for each
// delta on the balance as the deltas before it left it, and writes the
// balances and the journal. It returns, for each delta, whether this call
// applied it; on error, nothing of the batch is applied.
func (s *Store) ApplyUsageBatch(ctx context.Context, us []store.Usage, fn store.UsageFunc) ([]bool, error) {
	applied := make([]bool, len(us))
	if len(us) == 0 {
		return applied, nil
	}
	// The first occurrence of each delta is the one that may apply.
	first := make([]bool, len(us))
	seen := make(map[usageKey]bool, len(us))
	var (
		sessions, apps []string
		seqs           []int64
		at             []pgtype.Timestamptz
	)
	for i, u := range us {
		k := usageKey{u.SessionID, int64(u.Seq)}
		if seen[k] {
			continue
		}
		seen[k], first[i] = true, true
		sessions, seqs, apps, at = append(sessions, u.SessionID), append(seqs, k.seq), append(apps, u.AppID), append(at, ts(u.At))
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		clear(applied) // a retry starts afresh
		// Recorded in key order, so that two batches never wait on
		// each other's records in opposite orders.
		rows, err := tx.Query(ctx, `INSERT INTO usage_applied (session_id, seq, app_id, at)
			SELECT u.session_id, u.seq, u.app_id, u.at
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[]) AS u(session_id, seq, app_id, at)
			ORDER BY u.session_id COLLATE "C", u.seq
			ON CONFLICT DO NOTHING
			RETURNING session_id, seq`, sessions, seqs, apps, at)
		if err != nil {
			return err
		}
		inserted := make(map[usageKey]bool, len(sessions))
		var k usageKey
		_, err = pgx.ForEachRow(rows, []any{&k.session, &k.seq}, func() error {
			inserted[k] = true
			return nil
		})
		if err != nil {
			return err
		}
		if len(inserted) == 0 {
			return nil
		}
		totals := map[string]*[2]int64{}
		var charged []string
		for i, u := range us {
			if !first[i] || !inserted[usageKey{u.SessionID, int64(u.Seq)}] {
				continue
			}
			applied[i] = true
			t := totals[u.SessionID]
			if t == nil {
				t = new([2]int64)
				totals[u.SessionID] = t
			}
			t[0] += u.ToPeer
			t[1] += u.ToClient
			charged = append(charged, u.AppID)
		}
		ids := make([]string, 0, len(totals))
		for id := range totals {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		toPeer, toClient := make([]int64, len(ids)), make([]int64, len(ids))
		for i, id := range ids {
			toPeer[i], toClient[i] = totals[id][0], totals[id][1]
		}
		balances, err := lockBalances(ctx, tx, charged, func(b *pgx.Batch) {
			// Session rows are locked in ID order, before balance rows.
			b.Queue(`SELECT 1 FROM sessions WHERE id = ANY($1) ORDER BY id COLLATE "C" FOR UPDATE`, ids)
			b.Queue(`UPDATE sessions AS s SET to_peer = s.to_peer + v.to_peer, to_client = s.to_client + v.to_client
				FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(id, to_peer, to_client)
				WHERE s.id = v.id`, ids, toPeer, toClient)
		})
		if err != nil {
			return err
		}
		var entries []store.LedgerEntry
		for i, u := range us {
			if !applied[i] {
				continue
			}
			es, err := charge(balances[u.AppID], func(b *store.Balance) ([]store.LedgerEntry, error) { return fn(b, u) })
			if err != nil {
				return fmt.Errorf("usage %s#%d: %w", u.SessionID, u.Seq, err)
			}
			entries = append(entries, es...)
		}
		return writeLedger(ctx, tx, balances, entries)
	})
	if err != nil {
		clear(applied)
		return nil, fmt.Errorf("postgres: usage batch of %d: %w", len(us), err)
	}
	return applied, nil
}
