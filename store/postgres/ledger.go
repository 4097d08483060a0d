package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// errApplied ends a transaction that found its change applied already; it
// never leaves the package.
var errApplied = errors.New("postgres: already applied")

// Apply runs fn on the app's balance once per (app, ref), in one
// transaction with the entries it returns.
func (s *Store) Apply(ctx context.Context, appID, ref string, fn store.BalanceFunc) (bool, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		balances, err := lockBalances(ctx, tx, []string{appID}, func(b *pgx.Batch) {
			b.Queue(`SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE app_id = $1 AND ref = $2)`, appID, ref).
				QueryRow(func(row pgx.Row) error { return row.Scan(&exists) })
		})
		if err != nil {
			return err
		}
		if exists {
			return errApplied
		}
		b := balances[appID]
		entries, err := charge(b, fn)
		if err != nil {
			return err
		}
		return writeLedger(ctx, tx, balances, entries)
	})
	if errors.Is(err, errApplied) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: ledger %q of app %q: %w", ref, appID, err)
	}
	return true, nil
}

// ApplyUsage charges one usage delta once per (session, seq): it records
// the delta, adds it to the session's totals and applies fn, in one
// transaction.
func (s *Store) ApplyUsage(ctx context.Context, u store.Usage, fn store.BalanceFunc) (bool, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO usage_applied (session_id, seq, app_id, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, u.SessionID, int64(u.Seq), u.AppID, ts(u.At))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errApplied
		}
		balances, err := lockBalances(ctx, tx, []string{u.AppID}, func(b *pgx.Batch) {
			// Queued first: session rows are locked before balance rows.
			b.Queue(`UPDATE sessions SET to_peer = to_peer + $1, to_client = to_client + $2 WHERE id = $3`,
				u.ToPeer, u.ToClient, u.SessionID)
		})
		if err != nil {
			return err
		}
		entries, err := charge(balances[u.AppID], fn)
		if err != nil {
			return err
		}
		return writeLedger(ctx, tx, balances, entries)
	})
	if errors.Is(err, errApplied) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: usage %s#%d: %w", u.SessionID, u.Seq, err)
	}
	return true, nil
}

// lockBalances runs, in one round trip, what before queues (statements
// that lock rows which come before balances in the lock order), then makes
// sure each app of apps has a balance row and locks those rows, in ID
// order. It returns the balances, by app.
func lockBalances(ctx context.Context, tx pgx.Tx, apps []string, before func(*pgx.Batch)) (map[string]*store.Balance, error) {
	apps = slices.Clone(apps)
	slices.Sort(apps)
	apps = slices.Compact(apps)
	b := &pgx.Batch{}
	if before != nil {
		before(b)
	}
	// A zero row reads as no row: the zero Balance.
	b.Queue(`INSERT INTO balances (app_id) SELECT a FROM unnest($1::text[]) AS a ORDER BY a COLLATE "C"
		ON CONFLICT DO NOTHING`, apps)
	balances := make(map[string]*store.Balance, len(apps))
	b.Queue(`SELECT `+balanceColumns+` FROM balances WHERE app_id = ANY($1) ORDER BY app_id COLLATE "C" FOR UPDATE`, apps).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				bal, err := scanBalance(rows)
				if err != nil {
					return err
				}
				balances[bal.AppID] = &bal
			}
			return rows.Err()
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if len(balances) != len(apps) {
		return nil, fmt.Errorf("locked %d balances, want %d", len(balances), len(apps))
	}
	return balances, nil
}

// charge runs fn on b and checks that the entries it returns account for
// every change to the buckets. On success b holds the new balance; on
// error it is unchanged.
func charge(b *store.Balance, fn store.BalanceFunc) ([]store.LedgerEntry, error) {
	next := *b
	entries, err := fn(&next)
	if err != nil {
		return nil, err
	}
	next.AppID = b.AppID
	var dSub, dPAYG int64
	for _, e := range entries {
		dSub += e.Subscription
		dPAYG += e.PAYG
	}
	if dSub != next.Subscription-b.Subscription || dPAYG != next.PAYG-b.PAYG {
		return nil, fmt.Errorf("balance change (%d, %d) does not match its entries (%d, %d)",
			next.Subscription-b.Subscription, next.PAYG-b.PAYG, dSub, dPAYG)
	}
	*b = next
	for i := range entries {
		entries[i].AppID = b.AppID
	}
	return entries, nil
}

// writeLedger stores the balances, whose rows the transaction locked, and
// appends the entries to the journal in their order, in one round trip.
func writeLedger(ctx context.Context, tx pgx.Tx, balances map[string]*store.Balance, entries []store.LedgerEntry) error {
	n := len(balances)
	var (
		apps                                = make([]string, 0, n)
		subs, paygs, allowances, thresholds = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		periods                             = make([]pgtype.Timestamptz, 0, n)
		notified                            = make([]bool, 0, n)
	)
	for _, b := range balances {
		apps, subs, paygs = append(apps, b.AppID), append(subs, b.Subscription), append(paygs, b.PAYG)
		allowances, thresholds = append(allowances, b.Allowance), append(thresholds, b.LowThreshold)
		periods, notified = append(periods, ts(b.PeriodStart)), append(notified, b.LowNotified)
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE balances AS b SET subscription = v.subscription, payg = v.payg, allowance = v.allowance,
			period_start = v.period_start, low_threshold = v.low_threshold, low_notified = v.low_notified
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::bigint[], $7::boolean[])
			AS v(app_id, subscription, payg, allowance, period_start, low_threshold, low_notified)
		WHERE b.app_id = v.app_id`, apps, subs, paygs, allowances, periods, thresholds, notified)
	if len(entries) > 0 {
		m := len(entries)
		var (
			eApps, kinds, refs = make([]string, 0, m), make([]string, 0, m), make([]string, 0, m)
			eAt                = make([]pgtype.Timestamptz, 0, m)
			eSubs, ePAYGs      = make([]int64, 0, m), make([]int64, 0, m)
		)
		for _, e := range entries {
			eApps, kinds, refs = append(eApps, e.AppID), append(kinds, e.Kind), append(refs, e.Ref)
			eAt, eSubs, ePAYGs = append(eAt, ts(e.At)), append(eSubs, e.Subscription), append(ePAYGs, e.PAYG)
		}
		// Rows are inserted, and so numbered, in the order of entries.
		batch.Queue(`INSERT INTO ledger_entries (app_id, at, kind, ref, subscription, payg)
			SELECT e.app_id, e.at, e.kind, e.ref, e.subscription, e.payg
			FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
				WITH ORDINALITY AS e(app_id, at, kind, ref, subscription, payg, n)
			ORDER BY e.n`, eApps, eAt, kinds, refs, eSubs, ePAYGs)
	}
	return tx.SendBatch(ctx, batch).Close()
}

// balanceColumns are the columns of a balance, in the order scanBalance
// reads them.
const balanceColumns = `app_id, subscription, payg, allowance, period_start, low_threshold, low_notified`

// scanBalance reads a balances row selected as balanceColumns.
func scanBalance(row pgx.Row) (store.Balance, error) {
	var (
		b      store.Balance
		period pgtype.Timestamptz
	)
	if err := row.Scan(&b.AppID, &b.Subscription, &b.PAYG, &b.Allowance, &period, &b.LowThreshold, &b.LowNotified); err != nil {
		return store.Balance{}, err
	}
	b.PeriodStart = fromTS(period)
	return b, nil
}

// Balance returns the app's stored balance, or the zero Balance with
// AppID set.
func (s *Store) Balance(ctx context.Context, appID string) (store.Balance, error) {
	b, err := scanBalance(s.pool.QueryRow(ctx, `SELECT `+balanceColumns+` FROM balances WHERE app_id = $1`, appID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Balance{AppID: appID}, nil
	}
	if err != nil {
		return store.Balance{}, fmt.Errorf("postgres: balance of app %q: %w", appID, classify(ctx, err))
	}
	return b, nil
}

// Entries returns up to limit of the app's journal entries with an ID
// above afterID, in ID order. A negative limit is an error.
func (s *Store) Entries(ctx context.Context, appID string, afterID int64, limit int) ([]store.LedgerEntry, error) {
	if limit < 0 {
		return nil, fmt.Errorf("postgres: entries of app %q: negative limit %d", appID, limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, app_id, at, kind, ref, subscription, payg FROM ledger_entries
		WHERE app_id = $1 AND id > $2 ORDER BY id LIMIT $3`, appID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: entries of app %q: %w", appID, classify(ctx, err))
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.LedgerEntry, error) {
		var (
			e  store.LedgerEntry
			at pgtype.Timestamptz
		)
		if err := row.Scan(&e.ID, &e.AppID, &at, &e.Kind, &e.Ref, &e.Subscription, &e.PAYG); err != nil {
			return store.LedgerEntry{}, err
		}
		e.At = fromTS(at)
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: entries of app %q: %w", appID, classify(ctx, err))
	}
	return entries, nil
}
