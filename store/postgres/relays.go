package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// AnnounceRelay adds or replaces a relay's identity and load, keeping its
// draining flag.
func (s *Store) AnnounceRelay(ctx context.Context, r store.RelayRecord) error {
	var lat, lon pgtype.Float8
	if r.HasLocation {
		lat, lon = pgtype.Float8{Float64: r.Lat, Valid: true}, pgtype.Float8{Float64: r.Lon, Valid: true}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO relays (id, region, lat, lon, urls, capacity, instance, allocations, bitrate, reported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET region = excluded.region, lat = excluded.lat, lon = excluded.lon,
			urls = excluded.urls, capacity = excluded.capacity, instance = excluded.instance,
			allocations = excluded.allocations, bitrate = excluded.bitrate, reported_at = excluded.reported_at`,
		r.ID, r.Region, lat, lon, texts(r.URLs), r.Capacity, r.Instance, r.Allocations, r.Bitrate, ts(r.ReportedAt))
	if err != nil {
		return fmt.Errorf("postgres: announce relay %q: %w", r.ID, classify(ctx, err))
	}
	return nil
}

// ReportRelayLoad records a relay's load at the given time. It returns an
// error wrapping store.ErrNotFound for a relay that never announced
// itself.
func (s *Store) ReportRelayLoad(ctx context.Context, id string, allocations int, bitrate int64, at time.Time) error {
	if err := s.execOne(ctx, `UPDATE relays SET allocations = $1, bitrate = $2, reported_at = $3 WHERE id = $4`,
		allocations, bitrate, ts(at), id); err != nil {
		return fmt.Errorf("postgres: report relay %q: %w", id, err)
	}
	return nil
}

// SetRelayDraining sets or clears a relay's draining flag. It returns an
// error wrapping store.ErrNotFound for an unknown relay.
func (s *Store) SetRelayDraining(ctx context.Context, id string, draining bool) error {
	if err := s.execOne(ctx, `UPDATE relays SET draining = $1 WHERE id = $2`, draining, id); err != nil {
		return fmt.Errorf("postgres: drain relay %q: %w", id, err)
	}
	return nil
}

// RemoveRelay deletes the relay if instance announced it last; removing a
// relay that is not stored is not an error.
func (s *Store) RemoveRelay(ctx context.Context, id, instance string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM relays WHERE id = $1 AND instance = $2`, id, instance); err != nil {
		return fmt.Errorf("postgres: remove relay %q: %w", id, classify(ctx, err))
	}
	return nil
}

// ListRelays returns every relay, ordered by ID.
func (s *Store) ListRelays(ctx context.Context) ([]store.RelayRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, region, lat, lon, urls, capacity, instance, allocations, bitrate,
		reported_at, draining FROM relays ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list relays: %w", classify(ctx, err))
	}
	relays, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.RelayRecord, error) {
		var (
			r        store.RelayRecord
			lat, lon pgtype.Float8
			at       pgtype.Timestamptz
		)
		if err := row.Scan(&r.ID, &r.Region, &lat, &lon, &r.URLs, &r.Capacity, &r.Instance, &r.Allocations,
			&r.Bitrate, &at, &r.Draining); err != nil {
			return store.RelayRecord{}, err
		}
		if lat.Valid && lon.Valid {
			r.Lat, r.Lon, r.HasLocation = lat.Float64, lon.Float64, true
		}
		r.ReportedAt = fromTS(at)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list relays: %w", classify(ctx, err))
	}
	return relays, nil
}
