package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// appColumns are the columns of an app, in the order scanApp reads them
// and CreateApp gives them.
const appColumns = `id, name, status, created_at, regions`

// CreateApp stores a new app. It returns an error wrapping store.ErrExists
// if an app with the same ID exists, and an error if app.Status is not
// valid.
func (s *Store) CreateApp(ctx context.Context, app store.App) error {
	if !app.Status.Valid() {
		return fmt.Errorf("postgres: app %q: invalid status %q", app.ID, app.Status)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO apps (`+appColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		app.ID, app.Name, string(app.Status), ts(app.CreatedAt), texts(app.Regions))
	if err != nil {
		return fmt.Errorf("postgres: app %q: %w", app.ID, classify(ctx, err))
	}
	return nil
}

// App returns the app with the given ID, or an error wrapping
// store.ErrNotFound.
func (s *Store) App(ctx context.Context, id string) (store.App, error) {
	app, err := scanApp(s.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	if err != nil {
		return store.App{}, fmt.Errorf("postgres: app %q: %w", id, classify(ctx, err))
	}
	return app, nil
}

// scanApp reads an apps row selected as appColumns.
func scanApp(row pgx.Row) (store.App, error) {
	var (
		app     store.App
		status  string
		created pgtype.Timestamptz
	)
	if err := row.Scan(&app.ID, &app.Name, &status, &created, &app.Regions); err != nil {
		return store.App{}, err
	}
	app.Status, app.CreatedAt = store.AppStatus(status), fromTS(created)
	if len(app.Regions) == 0 {
		app.Regions = nil // every region
	}
	return app, nil
}

// SetAppStatus changes an app's status. It returns an error wrapping
// store.ErrNotFound if there is no such app, and an error if status is not
// valid.
func (s *Store) SetAppStatus(ctx context.Context, id string, status store.AppStatus) error {
	if !status.Valid() {
		return fmt.Errorf("postgres: app %q: invalid status %q", id, status)
	}
	if err := s.execOne(ctx, `UPDATE apps SET status = $1 WHERE id = $2`, string(status), id); err != nil {
		return fmt.Errorf("postgres: app %q: %w", id, err)
	}
	return nil
}

// SetAppRegions replaces an app's enabled regions (nil or empty: all). It
// returns an error wrapping store.ErrNotFound if there is no such app.
func (s *Store) SetAppRegions(ctx context.Context, id string, regions []string) error {
	if err := s.execOne(ctx, `UPDATE apps SET regions = $1 WHERE id = $2`, texts(regions), id); err != nil {
		return fmt.Errorf("postgres: app %q regions: %w", id, err)
	}
	return nil
}
