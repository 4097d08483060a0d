package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// PublishAddr adds or refreshes an address in a namespace, within limits.
func (s *Store) PublishAddr(ctx context.Context, p store.Publication) error {
	appID, ns, addr := p.AppID, p.Namespace, p.Addr
	now, err := nanos(p.At)
	if err != nil {
		return fmt.Errorf("sqlite: exchange %q: %w", ns, err)
	}
	cut, err := nanos(p.ExpiredBefore)
	if err != nil {
		return fmt.Errorf("sqlite: exchange %q: %w", ns, err)
	}
	_, err = s.tx(ctx, func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM exchange WHERE app_id = ? AND namespace = ? AND last_at < ?`,
			appID, ns, cut.Int64); err != nil {
			return false, err
		}
		res, err := tx.ExecContext(ctx, `UPDATE exchange SET last_at = ?, key_id = ? WHERE app_id = ? AND namespace = ? AND addr = ?`,
			now.Int64, p.KeyID, appID, ns, addr)
		if err != nil {
			return false, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return true, nil
		}
		var inNS, namespaces int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM exchange WHERE app_id = ? AND namespace = ?`,
			appID, ns).Scan(&inNS); err != nil {
			return false, err
		}
		if inNS >= p.MaxAddrs {
			return false, fmt.Errorf("%w: namespace has %d addresses, at most %d", store.ErrLimit, inNS, p.MaxAddrs)
		}
		if inNS == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT namespace) FROM exchange WHERE app_id = ? AND last_at >= ?`,
				appID, cut.Int64).Scan(&namespaces); err != nil {
				return false, err
			}
			if namespaces >= p.MaxNamespaces {
				return false, fmt.Errorf("%w: the app has %d live namespaces, at most %d", store.ErrLimit, namespaces, p.MaxNamespaces)
			}
			if p.KeyID != "" && p.MaxNamespacesPerKey > 0 {
				var perKey int
				if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT namespace) FROM exchange
					WHERE app_id = ? AND key_id = ? AND last_at >= ?`, appID, p.KeyID, cut.Int64).Scan(&perKey); err != nil {
					return false, err
				}
				if perKey >= p.MaxNamespacesPerKey {
					return false, fmt.Errorf("%w: the key is in %d live namespaces, at most %d", store.ErrLimit, perKey, p.MaxNamespacesPerKey)
				}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO exchange (app_id, namespace, addr, first_at, last_at, key_id) VALUES (?, ?, ?, ?, ?, ?)`,
			appID, ns, addr, now.Int64, now.Int64, p.KeyID)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("sqlite: exchange %q: %w", ns, err)
	}
	return nil
}

// NamespaceAddrs returns a namespace's live entries, oldest first.
func (s *Store) NamespaceAddrs(ctx context.Context, appID, ns string, expiredBefore time.Time) ([]store.ExchangeEntry, error) {
	cut, err := nanos(expiredBefore)
	if err != nil {
		return nil, fmt.Errorf("sqlite: exchange %q: %w", ns, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT addr, first_at, last_at FROM exchange
		WHERE app_id = ? AND namespace = ? AND last_at >= ? ORDER BY first_at, rowid`, appID, ns, cut.Int64)
	if err != nil {
		return nil, fmt.Errorf("sqlite: exchange %q: %w", ns, err)
	}
	entries, err := collect(rows, func(row scanner) (store.ExchangeEntry, error) {
		var (
			e           store.ExchangeEntry
			first, last sql.NullInt64
		)
		if err := row.Scan(&e.Addr, &first, &last); err != nil {
			return store.ExchangeEntry{}, err
		}
		e.First, e.Last = fromNanos(first), fromNanos(last)
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: exchange %q: %w", ns, err)
	}
	return entries, nil
}

// ExpireExchange deletes entries last published before the given time.
func (s *Store) ExpireExchange(ctx context.Context, before time.Time) (int, error) {
	cut, err := nanos(before)
	if err != nil {
		return 0, fmt.Errorf("sqlite: expire exchange: %w", err)
	}
	n, err := s.write(ctx, `DELETE FROM exchange WHERE last_at < ?`, cut.Int64)
	if err != nil {
		return 0, fmt.Errorf("sqlite: expire exchange: %w", err)
	}
	return int(n), nil
}
