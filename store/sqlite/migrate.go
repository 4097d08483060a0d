package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// embedded holds the schema migrations compiled into the binary.
//
//go:embed migrations/*.sql
var embedded embed.FS

// migration is one schema change: the SQL that takes the schema from
// version-1 to version.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql from fsys. The numbers must
// run 1, 2, 3… without gaps or repeats; the result is in that order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries { // ReadDir sorts by name, so by number
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name is not NNNN_name.sql", e.Name())
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %q: number %d, want %d", e.Name(), v, len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration %q: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, errors.New("migrations: none found")
	}
	return ms, nil
}

// migrate applies to db the migrations of fsys that its user_version says
// are not applied yet, in order, each in its own transaction together with
// the user_version it reaches. A migration that another process applies
// meanwhile is skipped. migrate fails if db is at a version newer than the
// last migration of fsys.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	v, err := userVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v > len(ms) {
		return fmt.Errorf("migrate: schema version %d is newer than this build knows (%d)", v, len(ms))
	}
	for _, m := range ms[v:] {
		if err := apply(ctx, conn, m); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	return nil
}

// apply runs one migration in a transaction that takes the write lock at
// once (BEGIN IMMEDIATE), so two processes opening the same file apply it
// once between them.
func apply(ctx context.Context, conn *sql.Conn, m migration) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// The rollback must run even when ctx is what failed.
			_, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			if rbErr != nil && !strings.Contains(rbErr.Error(), "no transaction is active") {
				err = errors.Join(err, rbErr)
			}
		}
	}()
	v, err := userVersion(ctx, conn)
	if err != nil {
		return err
	}
	if v >= m.version { // applied by another connection meanwhile
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	if v != m.version-1 {
		return fmt.Errorf("schema version is %d, want %d", v, m.version-1)
	}
	if _, err := conn.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// userVersion returns the schema version recorded in the database.
func userVersion(ctx context.Context, conn *sql.Conn) (int, error) {
	var v int
	err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
