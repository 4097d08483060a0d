package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// AnnounceRelay adds or replaces a relay's identity, keeping its draining
// flag.
func (s *Store) AnnounceRelay(ctx context.Context, r store.RelayRecord) error {
	urls, err := json.Marshal(r.URLs)
	if err != nil {
		return fmt.Errorf("sqlite: relay %q: %w", r.ID, err)
	}
	at, err := nanos(r.ReportedAt)
	if err != nil {
		return fmt.Errorf("sqlite: relay %q: %w", r.ID, err)
	}
	var lat, lon sql.NullFloat64
	if r.HasLocation {
		lat, lon = sql.NullFloat64{Float64: r.Lat, Valid: true}, sql.NullFloat64{Float64: r.Lon, Valid: true}
	}
	_, err = s.write(ctx, `INSERT INTO relays (id, region, lat, lon, urls, capacity, instance, allocations, bitrate, reported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET region = excluded.region, lat = excluded.lat, lon = excluded.lon,
			urls = excluded.urls, capacity = excluded.capacity, instance = excluded.instance,
			allocations = excluded.allocations, bitrate = excluded.bitrate, reported_at = excluded.reported_at`,
		r.ID, r.Region, lat, lon, string(urls), r.Capacity, r.Instance, r.Allocations, r.Bitrate, at)
	if err != nil {
		return fmt.Errorf("sqlite: announce relay %q: %w", r.ID, err)
	}
	return nil
}

// ReportRelayLoad records a relay's load.
func (s *Store) ReportRelayLoad(ctx context.Context, id string, allocations int, bitrate int64, at time.Time) error {
	when, err := nanos(at)
	if err != nil {
		return fmt.Errorf("sqlite: relay %q: %w", id, err)
	}
	if err := s.writeOne(ctx, `UPDATE relays SET allocations = ?, bitrate = ?, reported_at = ? WHERE id = ?`,
		allocations, bitrate, when, id); err != nil {
		return fmt.Errorf("sqlite: report relay %q: %w", id, err)
	}
	return nil
}

// SetRelayDraining sets or clears a relay's draining flag.
func (s *Store) SetRelayDraining(ctx context.Context, id string, draining bool) error {
	if err := s.writeOne(ctx, `UPDATE relays SET draining = ? WHERE id = ?`, draining, id); err != nil {
		return fmt.Errorf("sqlite: drain relay %q: %w", id, err)
	}
	return nil
}

// ListRelays returns every relay, by ID.
func (s *Store) ListRelays(ctx context.Context) ([]store.RelayRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, region, lat, lon, urls, capacity, instance, allocations, bitrate,
		reported_at, draining FROM relays ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list relays: %w", err)
	}
	relays, err := collect(rows, func(row scanner) (store.RelayRecord, error) {
		var (
			r        store.RelayRecord
			lat, lon sql.NullFloat64
			urls     string
			at       sql.NullInt64
		)
		if err := row.Scan(&r.ID, &r.Region, &lat, &lon, &urls, &r.Capacity, &r.Instance, &r.Allocations,
			&r.Bitrate, &at, &r.Draining); err != nil {
			return store.RelayRecord{}, err
		}
		if lat.Valid && lon.Valid {
			r.Lat, r.Lon, r.HasLocation = lat.Float64, lon.Float64, true
		}
		if err := json.Unmarshal([]byte(urls), &r.URLs); err != nil {
			return store.RelayRecord{}, fmt.Errorf("relay %q: urls: %w", r.ID, err)
		}
		r.ReportedAt = fromNanos(at)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list relays: %w", err)
	}
	return relays, nil
}

// RemoveRelay deletes the relay if the instance that announced it last is
// instance.
func (s *Store) RemoveRelay(ctx context.Context, id, instance string) error {
	if _, err := s.write(ctx, `DELETE FROM relays WHERE id = ? AND instance = ?`, id, instance); err != nil {
		return fmt.Errorf("sqlite: remove relay %q: %w", id, err)
	}
	return nil
}
