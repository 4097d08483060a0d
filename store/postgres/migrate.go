package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// embedded holds the schema migrations compiled into the binary.
//
//go:embed migrations/*.sql
var embedded embed.FS

// MigrationLock is the key of the PostgreSQL advisory lock (the one-bigint
// form, scoped to the database) that a Store holds while it brings the
// schema up to date: "turnkit" in ASCII. Another program that shares the
// database must not take it.
const MigrationLock int64 = 0x7475726e6b6974

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

// migrate applies to the database of pool the migrations of fsys that its
// schema_migrations table does not list, in order, in one transaction
// that first takes the advisory lock MigrationLock. Nodes that start at
// once therefore take turns: the first applies the migrations, the others
// then find nothing to do. migrate fails if the database is at a version
// newer than the last migration of fsys.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) (err error) {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	// Read committed: each statement after the lock sees what the
	// previous holder committed.
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("migrate: %w", classify(ctx, err))
	}
	defer func() {
		if err != nil {
			rollback(ctx, tx)
		}
	}()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, MigrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", classify(ctx, err))
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", classify(ctx, err))
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", classify(ctx, err))
	}
	if v > len(ms) {
		return fmt.Errorf("migrate: schema version %d is newer than this build knows (%d)", v, len(ms))
	}
	for _, m := range ms[v:] {
		// Without arguments, Exec uses the simple protocol, which runs
		// every statement of the file.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, classify(ctx, err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, classify(ctx, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", classify(ctx, err))
	}
	return nil
}

// rollbackTimeout bounds a rollback, which runs even when the context of
// the transaction is done.
const rollbackTimeout = 5 * time.Second

// rollback ends tx without its changes. If that fails, the pool discards
// the connection, which ends the transaction on the server all the same.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}
