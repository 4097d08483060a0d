package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// This file implements the optional listing capabilities of package store:
// pages of apps and of active sessions, and usage summed by hour.

var (
	_ store.AppLister           = (*Store)(nil)
	_ store.ActiveSessionLister = (*Store)(nil)
	_ store.HourlyUsageLister   = (*Store)(nil)
)

// ListApps returns up to limit apps with an ID after after, in ID order
// (SQLite's BINARY collation, which is byte order).
func (s *Store) ListApps(ctx context.Context, after string, limit int) ([]store.App, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: list apps: limit %d is below 1", limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, status, created_at, regions FROM apps
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list apps: %w", err)
	}
	apps, err := collect(rows, func(row scanner) (store.App, error) {
		var (
			app     store.App
			created sql.NullInt64
			regions string
		)
		if err := row.Scan(&app.ID, &app.Name, &app.Status, &created, &regions); err != nil {
			return store.App{}, err
		}
		app.CreatedAt = fromNanos(created)
		if app.Regions, err = decodeRegions(regions); err != nil {
			return store.App{}, fmt.Errorf("app %q: %w", app.ID, err)
		}
		return app, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list apps: %w", err)
	}
	return apps, nil
}

// ActiveSessions returns up to limit sessions that have not ended, of appID
// (of every app for ""), with an ID after after, in ID order, over the
// partial indexes of active sessions by ID and by app and ID: no ended
// session is read.
func (s *Store) ActiveSessions(ctx context.Context, appID, after string, limit int) ([]store.Session, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: active sessions of app %q: limit %d is below 1", appID, limit)
	}
	query := `SELECT ` + sessionColumns + ` FROM sessions
		WHERE ended_at IS NULL AND app_id = ? AND id > ? ORDER BY id LIMIT ?`
	args := []any{appID, after, limit}
	if appID == "" {
		query = `SELECT ` + sessionColumns + ` FROM sessions
			WHERE ended_at IS NULL AND id > ? ORDER BY id LIMIT ?`
		args = args[1:]
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: active sessions of app %q: %w", appID, err)
	}
	list, err := collect(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("sqlite: active sessions of app %q: %w", appID, err)
	}
	return list, nil
}

// HourlyUsage sums the app's usage entries by hour from from, in SQL: the
// index of usage entries by app and time bounds the rows read to those of
// the range.
func (s *Store) HourlyUsage(ctx context.Context, appID string, from, to time.Time) ([]store.UsageHour, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return nil, fmt.Errorf("sqlite: hourly usage of app %q: range [%v, %v) is not a range", appID, from, to)
	}
	lo, err := nanos(from)
	if err != nil {
		return nil, fmt.Errorf("sqlite: hourly usage of app %q: from: %w", appID, err)
	}
	hi, err := nanos(to)
	if err != nil {
		return nil, fmt.Errorf("sqlite: hourly usage of app %q: to: %w", appID, err)
	}
	const hour = int64(time.Hour)
	// at >= lo, so (at - lo) / hour is the hour's index rounded down.
	rows, err := s.r.QueryContext(ctx, `SELECT (at - ?1) / ?2 AS k, sum(-(subscription + payg)), count(*)
		FROM ledger_entries
		WHERE app_id = ?3 AND kind = 'usage' AND at >= ?1 AND at < ?4
		GROUP BY k ORDER BY k`, lo.Int64, hour, appID, hi.Int64)
	if err != nil {
		return nil, fmt.Errorf("sqlite: hourly usage of app %q: %w", appID, err)
	}
	start := from.UTC()
	hours, err := collect(rows, func(row scanner) (store.UsageHour, error) {
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
		return nil, fmt.Errorf("sqlite: hourly usage of app %q: %w", appID, err)
	}
	return hours, nil
}
