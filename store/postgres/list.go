package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnkit/turnkit/store"
)

// This file implements the optional listing capabilities of package store:
// pages of apps and of active sessions, and usage summed by hour.

var (
	_ store.AppLister           = (*Store)(nil)
	_ store.ActiveSessionLister = (*Store)(nil)
	_ store.HourlyUsageLister   = (*Store)(nil)
)

// ListApps returns up to limit apps with an ID after after, in byte order
// (COLLATE "C", whatever the database's collation). A limit below 1 is an
// error.
func (s *Store) ListApps(ctx context.Context, after string, limit int) ([]store.App, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: list apps: limit %d is below 1", limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+appColumns+` FROM apps
		WHERE id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list apps: %w", classify(ctx, err))
	}
	apps, err := pgx.CollectRows(rows, rowTo(scanApp))
	if err != nil {
		return nil, fmt.Errorf("postgres: list apps: %w", classify(ctx, err))
	}
	return apps, nil
}

// ActiveSessions returns up to limit sessions that have not ended, of appID
// (of every app for ""), with an ID after after, in byte order. A limit
// below 1 is an error.
func (s *Store) ActiveSessions(ctx context.Context, appID, after string, limit int) ([]store.Session, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: active sessions of app %q: limit %d is below 1", appID, limit)
	}
	var (
		rows pgx.Rows
		err  error
	)
	if appID == "" {
		rows, err = s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
			WHERE ended_at IS NULL AND id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`, after, limit)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
			WHERE ended_at IS NULL AND app_id = $1 AND id COLLATE "C" > $2 ORDER BY id COLLATE "C" LIMIT $3`, appID, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: active sessions of app %q: %w", appID, classify(ctx, err))
	}
	list, err := pgx.CollectRows(rows, rowTo(scanSession))
	if err != nil {
		return nil, fmt.Errorf("postgres: active sessions of app %q: %w", appID, classify(ctx, err))
	}
	return list, nil
}

// HourlyUsage sums the app's usage entries by hour from from, in SQL, over
// the index of usage entries by app and time. PostgreSQL keeps
// microseconds, so from and to are taken to the microsecond.
func (s *Store) HourlyUsage(ctx context.Context, appID string, from, to time.Time) ([]store.UsageHour, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return nil, fmt.Errorf("postgres: hourly usage of app %q: range [%v, %v) is not a range", appID, from, to)
	}
	// at >= from, so the floor of (at - from) in hours is the hour's index.
	rows, err := s.pool.Query(ctx, `SELECT floor((extract(epoch FROM at) - extract(epoch FROM $1::timestamptz)) / 3600)::bigint AS k,
			sum(-(subscription + payg))::bigint, count(*)
		FROM ledger_entries
		WHERE app_id = $2 AND kind = 'usage' AND at >= $1 AND at < $3
		GROUP BY k ORDER BY k`, from, appID, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: hourly usage of app %q: %w", appID, classify(ctx, err))
	}
	start := from.UTC()
	hours, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.UsageHour, error) {
		var (
			k int64
			u store.UsageHour
		)
		if err := row.Scan(&k, &u.Bytes, &u.Entries); err != nil {
			return store.UsageHour{}, err
		}
		u.Start = start.Add(time.Duration(k) * time.Hour)
		return u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: hourly usage of app %q: %w", appID, classify(ctx, err))
	}
	return hours, nil
}
