package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/turnkit/turnkit/internal/migrations"
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

// migrate applies to the database of pool the migrations of fsys
// (migrations/NNNN_name.sql, as [migrations.Load] reads them) that its
// schema_migrations table does not list, in order, in one transaction
// that first takes the advisory lock MigrationLock. Nodes that start at
// once therefore take turns: the first applies the migrations, the others
// then find nothing to do. migrate fails if the database is at a version
// newer than the last migration of fsys.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) (err error) {
	ms, err := migrations.Load(fsys, "migrations")
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
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, classify(ctx, err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, classify(ctx, err))
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
