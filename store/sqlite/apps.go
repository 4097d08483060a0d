package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/turnkit/turnkit/store"
)

// CreateApp stores a new app. It returns an error wrapping store.ErrExists
// if an app with the same ID exists, and an error if app.Status is not
// valid.
func (s *Store) CreateApp(ctx context.Context, app store.App) error {
	if !app.Status.Valid() {
		return fmt.Errorf("sqlite: app %q: invalid status %q", app.ID, app.Status)
	}
	created, err := nanos(app.CreatedAt)
	if err != nil {
		return fmt.Errorf("sqlite: app %q: created at: %w", app.ID, err)
	}
	regions, err := encodeRegions(app.Regions)
	if err != nil {
		return fmt.Errorf("sqlite: app %q: %w", app.ID, err)
	}
	_, err = s.write(ctx, `INSERT INTO apps (id, name, status, created_at, regions) VALUES (?, ?, ?, ?, ?)`,
		app.ID, app.Name, string(app.Status), created, regions)
	if err != nil {
		return fmt.Errorf("sqlite: app %q: %w", app.ID, err)
	}
	return nil
}

// App returns the app with the given ID, or an error wrapping
// store.ErrNotFound.
func (s *Store) App(ctx context.Context, id string) (store.App, error) {
	var (
		app     store.App
		created sql.NullInt64
		regions string
	)
	err := s.r.QueryRowContext(ctx, `SELECT id, name, status, created_at, regions FROM apps WHERE id = ?`, id).
		Scan(&app.ID, &app.Name, &app.Status, &created, &regions)
	if err != nil {
		return store.App{}, fmt.Errorf("sqlite: app %q: %w", id, notFound(err))
	}
	app.CreatedAt = fromNanos(created)
	if app.Regions, err = decodeRegions(regions); err != nil {
		return store.App{}, fmt.Errorf("sqlite: app %q: %w", id, err)
	}
	return app, nil
}

// SetAppStatus changes an app's status. It returns an error wrapping
// store.ErrNotFound if there is no such app, and an error if status is not
// valid.
func (s *Store) SetAppStatus(ctx context.Context, id string, status store.AppStatus) error {
	if !status.Valid() {
		return fmt.Errorf("sqlite: app %q: invalid status %q", id, status)
	}
	if err := s.writeOne(ctx, `UPDATE apps SET status = ? WHERE id = ?`, string(status), id); err != nil {
		return fmt.Errorf("sqlite: app %q: %w", id, err)
	}
	return nil
}

// SetAppRegions replaces an app's enabled regions.
func (s *Store) SetAppRegions(ctx context.Context, id string, regions []string) error {
	enc, err := encodeRegions(regions)
	if err != nil {
		return fmt.Errorf("sqlite: app %q: %w", id, err)
	}
	if err := s.writeOne(ctx, `UPDATE apps SET regions = ? WHERE id = ?`, enc, id); err != nil {
		return fmt.Errorf("sqlite: app %q regions: %w", id, err)
	}
	return nil
}

// encodeRegions stores regions as a JSON array; nil is stored as [].
func encodeRegions(regions []string) (string, error) {
	if regions == nil {
		regions = []string{}
	}
	b, err := json.Marshal(regions)
	return string(b), err
}

// decodeRegions reads what encodeRegions stored: nil for every region.
func decodeRegions(enc string) ([]string, error) {
	var regions []string
	if err := json.Unmarshal([]byte(enc), &regions); err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	if len(regions) == 0 {
		return nil, nil // every region
	}
	return regions, nil
}
