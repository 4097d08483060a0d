package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/turnkit/turnkit/internal/migrations"
)

// embedded holds the schema migrations compiled into the binary.
//
//go:embed migrations/*.sql
var embedded embed.FS

// migrate applies to db the migrations of fsys (migrations/NNNN_name.sql,
// as [migrations.Load] reads them) that its user_version says are not
// applied yet, in order, each in its own transaction together with
// the user_version it reaches. A migration that another process applies
// meanwhile is skipped. migrate fails if db is at a version newer than the
// last migration of fsys.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := migrations.Load(fsys, "migrations")
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
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	return nil
}

// apply runs one migration in a transaction that takes the write lock at
// once (BEGIN IMMEDIATE), so two processes opening the same file apply it
// once between them.
func apply(ctx context.Context, conn *sql.Conn, m migrations.Migration) (err error) {
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
	if v >= m.Version { // applied by another connection meanwhile
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	if v != m.Version-1 {
		return fmt.Errorf("schema version is %d, want %d", v, m.Version-1)
	}
	if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.Version)); err != nil {
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
