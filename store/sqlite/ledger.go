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
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.wsem }()
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

// applyBalance loads the balance, runs fn, checks that the entries account
// for every change to the buckets, and writes both.
func applyBalance(ctx context.Context, tx *sql.Tx, appID string, fn store.BalanceFunc) error {
	before, err := loadBalance(ctx, tx, appID)
	if err != nil {
		return err
	}
	b := before
	entries, err := fn(&b)
	if err != nil {
		return err
	}
	b.AppID = appID
	var dSub, dPAYG int64
	for _, e := range entries {
		dSub += e.Subscription
		dPAYG += e.PAYG
	}
	if dSub != b.Subscription-before.Subscription || dPAYG != b.PAYG-before.PAYG {
		return fmt.Errorf("balance change (%d, %d) does not match its entries (%d, %d)",
			b.Subscription-before.Subscription, b.PAYG-before.PAYG, dSub, dPAYG)
	}
	period, err := nanos(b.PeriodStart)
	if err != nil {
		return fmt.Errorf("period start: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO balances (app_id, subscription, payg, allowance, period_start, low_threshold, low_notified)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET subscription = excluded.subscription, payg = excluded.payg,
			allowance = excluded.allowance, period_start = excluded.period_start,
			low_threshold = excluded.low_threshold, low_notified = excluded.low_notified`,
		appID, b.Subscription, b.PAYG, b.Allowance, period, b.LowThreshold, b.LowNotified)
	if err != nil {
		return err
	}
	for _, e := range entries {
		at, err := nanos(e.At)
		if err != nil {
			return fmt.Errorf("entry %q: %w", e.Ref, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ledger_entries (app_id, at, kind, ref, subscription, payg) VALUES (?, ?, ?, ?, ?, ?)`,
			appID, at, e.Kind, e.Ref, e.Subscription, e.PAYG)
		if err != nil {
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
	defer rows.Close()
	out := []store.LedgerEntry{}
	for rows.Next() {
		var e store.LedgerEntry
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &e.AppID, &at, &e.Kind, &e.Ref, &e.Subscription, &e.PAYG); err != nil {
			return nil, fmt.Errorf("sqlite: entries of app %q: %w", appID, err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: entries of app %q: %w", appID, err)
	}
	return out, nil
}
