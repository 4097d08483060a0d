package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/turnkit/turnkit/store"
)

// Apply runs fn on the app's balance once per (app, ref), in one
// transaction with the entries it returns.
func (s *Store) Apply(ctx context.Context, appID, ref string, fn store.BalanceFunc) (bool, error) {
	applied, err := s.tx(ctx, func(tx *sql.Tx) (bool, error) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM ledger_entries WHERE app_id = ? AND ref = ?`, appID, ref).Scan(&one)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		return true, applyBalance(ctx, tx, appID, fn)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: ledger %q of app %q: %w", ref, appID, err)
	}
	return applied, nil
}

// ApplyUsage charges one usage delta once per (session, seq): it records
// the delta, adds it to the session's totals and applies fn, in one
// transaction.
func (s *Store) ApplyUsage(ctx context.Context, u store.Usage, fn store.BalanceFunc) (bool, error) {
	at, err := nanos(u.At)
	if err != nil {
		return false, fmt.Errorf("sqlite: usage %s#%d: %w", u.SessionID, u.Seq, err)
	}
	applied, err := s.tx(ctx, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO usage_applied (session_id, seq, app_id, at) VALUES (?, ?, ?, ?)`,
			u.SessionID, int64(u.Seq), u.AppID, at)
		if err := classify(err); errors.Is(err, store.ErrExists) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET to_peer = to_peer + ?, to_client = to_client + ? WHERE id = ?`,
			u.ToPeer, u.ToClient, u.SessionID); err != nil {
			return false, err
		}
		return true, applyBalance(ctx, tx, u.AppID, fn)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: usage %s#%d: %w", u.SessionID, u.Seq, err)
	}
	return applied, nil
}

// tx runs fn in one transaction on the writer, after any other write of
// this Store, and commits unless fn fails.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) (bool, error)) (bool, error) {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	ok, err := fn(tx)
	if err != nil {
		return false, errors.Join(err, tx.Rollback())
	}
	return ok, tx.Commit()
}

// applyBalance loads the balance, runs fn on it, and writes it back with
// the entries fn returns (see charge).
func applyBalance(ctx context.Context, tx *sql.Tx, appID string, fn store.BalanceFunc) error {
	b, err := loadBalance(ctx, tx, appID)
	if err != nil {
		return err
	}
	entries, err := charge(&b, fn)
	if err != nil {
		return err
	}
	if err := putBalance(ctx, tx, b); err != nil {
		return err
	}
	return addEntries(ctx, tx, entries)
}

// charge runs fn on b and checks that the entries it returns account for
// every change to the buckets. On success b holds the new balance and the
// entries carry its app; on error b is unchanged.
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

// putBalance stores b, adding its row if the app has none yet.
func putBalance(ctx context.Context, tx *sql.Tx, b store.Balance) error {
	period, err := nanos(b.PeriodStart)
	if err != nil {
		return fmt.Errorf("period start: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO balances (app_id, subscription, payg, allowance, period_start, low_threshold, low_notified)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET subscription = excluded.subscription, payg = excluded.payg,
			allowance = excluded.allowance, period_start = excluded.period_start,
			low_threshold = excluded.low_threshold, low_notified = excluded.low_notified`,
		b.AppID, b.Subscription, b.PAYG, b.Allowance, period, b.LowThreshold, b.LowNotified)
	return err
}

// insertEntry appends one entry to the journal.
const insertEntry = `INSERT INTO ledger_entries (app_id, at, kind, ref, subscription, payg) VALUES (?, ?, ?, ?, ?, ?)`

// addEntries appends entries to the journal in their order, each under
// its AppID. The statement is prepared once when there are several.
func addEntries(ctx context.Context, tx *sql.Tx, entries []store.LedgerEntry) error {
	exec := func(args ...any) error {
		_, err := tx.ExecContext(ctx, insertEntry, args...)
		return err
	}
	if len(entries) > 1 {
		add, err := tx.PrepareContext(ctx, insertEntry)
		if err != nil {
			return err
		}
		defer add.Close()
		exec = func(args ...any) error {
			_, err := add.ExecContext(ctx, args...)
			return err
		}
	}
	for _, e := range entries {
		at, err := nanos(e.At)
		if err != nil {
			return fmt.Errorf("entry %q: %w", e.Ref, err)
		}
		if err := exec(e.AppID, at, e.Kind, e.Ref, e.Subscription, e.PAYG); err != nil {
			return fmt.Errorf("entry %q: %w", e.Ref, classify(err))
		}
	}
	return nil
}

type rowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadBalance(ctx context.Context, q rowQueryer, appID string) (store.Balance, error) {
	b := store.Balance{AppID: appID}
	var period sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT subscription, payg, allowance, period_start, low_threshold, low_notified
		FROM balances WHERE app_id = ?`, appID).
		Scan(&b.Subscription, &b.PAYG, &b.Allowance, &period, &b.LowThreshold, &b.LowNotified)
	if errors.Is(err, sql.ErrNoRows) {
		return b, nil
	}
	if err != nil {
		return store.Balance{}, err
	}
	b.PeriodStart = fromNanos(period)
	return b, nil
}

// Balance returns the app's stored balance, or the zero Balance.
func (s *Store) Balance(ctx context.Context, appID string) (store.Balance, error) {
	b, err := loadBalance(ctx, s.r, appID)
	if err != nil {
		return store.Balance{}, fmt.Errorf("sqlite: balance of app %q: %w", appID, err)
	}
	return b, nil
}

// Entries returns up to limit of the app's journal entries after afterID.
func (s *Store) Entries(ctx context.Context, appID string, afterID int64, limit int) ([]store.LedgerEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, app_id, at, kind, ref, subscription, payg FROM ledger_entries
		WHERE app_id = ? AND id > ? ORDER BY id LIMIT ?`, appID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries of app %q: %w", appID, err)
	}
	entries, err := collect(rows, func(row scanner) (store.LedgerEntry, error) {
		var (
			e  store.LedgerEntry
			at sql.NullInt64
		)
		if err := row.Scan(&e.ID, &e.AppID, &at, &e.Kind, &e.Ref, &e.Subscription, &e.PAYG); err != nil {
			return store.LedgerEntry{}, err
		}
		e.At = fromNanos(at)
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries of app %q: %w", appID, err)
	}
	return entries, nil
}
