package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnkit/turnkit/store"
)

// exchangeLock is the first key of the advisory locks (the two-int4 form,
// whose keys never meet MigrationLock's) that serialise the publications
// of one app; the second is a hash of the app's ID. The limits count rows
// of many namespaces, which no row lock covers.
const exchangeLock int32 = 0x746b6578 // "tkex"

// PublishAddr adds p.Addr to the app's namespace or refreshes it, first
// deleting the namespace's expired entries, within the limits of p; a
// publication over a limit is refused with an error wrapping
// store.ErrLimit. Publications of one app, from any node, take turns.
func (s *Store) PublishAddr(ctx context.Context, p store.Publication) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, exchangeLock, p.AppID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM exchange WHERE app_id = $1 AND namespace = $2 AND last_at < $3`,
			p.AppID, p.Namespace, p.ExpiredBefore); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE exchange SET last_at = $1, key_id = $2 WHERE app_id = $3 AND namespace = $4 AND addr = $5`,
			p.At, p.KeyID, p.AppID, p.Namespace, p.Addr)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		var inNS int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM exchange WHERE app_id = $1 AND namespace = $2`,
			p.AppID, p.Namespace).Scan(&inNS); err != nil {
			return err
		}
		if inNS >= p.MaxAddrs {
			return fmt.Errorf("%w: namespace has %d addresses, at most %d", store.ErrLimit, inNS, p.MaxAddrs)
		}
		if inNS == 0 {
			var namespaces int
			if err := tx.QueryRow(ctx, `SELECT count(DISTINCT namespace) FROM exchange WHERE app_id = $1 AND last_at >= $2`,
				p.AppID, p.ExpiredBefore).Scan(&namespaces); err != nil {
				return err
			}
			if namespaces >= p.MaxNamespaces {
				return fmt.Errorf("%w: the app has %d live namespaces, at most %d", store.ErrLimit, namespaces, p.MaxNamespaces)
			}
			if p.KeyID != "" && p.MaxNamespacesPerKey > 0 {
				var perKey int
				if err := tx.QueryRow(ctx, `SELECT count(DISTINCT namespace) FROM exchange
					WHERE app_id = $1 AND key_id = $2 AND last_at >= $3`, p.AppID, p.KeyID, p.ExpiredBefore).Scan(&perKey); err != nil {
					return err
				}
				if perKey >= p.MaxNamespacesPerKey {
					return fmt.Errorf("%w: the key is in %d live namespaces, at most %d", store.ErrLimit, perKey, p.MaxNamespacesPerKey)
				}
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO exchange (app_id, namespace, addr, key_id, first_at, last_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			p.AppID, p.Namespace, p.Addr, p.KeyID, p.At)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: exchange %q: %w", p.Namespace, err)
	}
	return nil
}

// NamespaceAddrs returns the namespace's entries last published at or
// after expiredBefore, in the order they were first published.
func (s *Store) NamespaceAddrs(ctx context.Context, appID, ns string, expiredBefore time.Time) ([]store.ExchangeEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT addr, first_at, last_at FROM exchange
		WHERE app_id = $1 AND namespace = $2 AND last_at >= $3 ORDER BY first_at, seq`, appID, ns, expiredBefore)
	if err != nil {
		return nil, fmt.Errorf("postgres: exchange %q: %w", ns, classify(ctx, err))
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ExchangeEntry, error) {
		var e store.ExchangeEntry
		if err := row.Scan(&e.Addr, &e.First, &e.Last); err != nil {
			return store.ExchangeEntry{}, err
		}
		e.First, e.Last = e.First.UTC(), e.Last.UTC()
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: exchange %q: %w", ns, classify(ctx, err))
	}
	return entries, nil
}

// ExpireExchange deletes every entry last published before the given time
// and returns how many it deleted.
func (s *Store) ExpireExchange(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM exchange WHERE last_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: expire exchange: %w", classify(ctx, err))
	}
	return int(tag.RowsAffected()), nil
}
