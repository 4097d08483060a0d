package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/turnkit/turnkit/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	w, r   *sql.DB // writer (one connection) and reader pool
	owned  bool    // Close closes w and r
	shared bool    // w == r, handed in by the caller
}

var _ store.Store = (*Store)(nil)

// busyTimeout is how long a statement waits for a lock held by another
// process before it fails.
const busyTimeout = 5 * time.Second

// Open opens (creating if needed) the SQLite file at path and applies the
// migrations it lacks.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + url.Values{"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"foreign_keys(1)",
		"synchronous(NORMAL)",
	}}.Encode() + "&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{w: w, r: r, owned: true}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// New uses a database handle the caller opened (with the modernc.org/sqlite
// driver) and applies the migrations it lacks. Reads and writes share the
// handle; the caller should configure WAL mode, a busy timeout and foreign
// keys in its DSN, and may limit it to one connection to serialise writes.
// Close does not close db.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	s := &Store{w: db, r: db, shared: true}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return s, nil
}

// Close closes the database handles Open opened.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// migrate applies, in order, every embedded migration whose number is above
// PRAGMA user_version, each in a transaction with the version bump.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i, name := range names {
		n := i + 1
		if !strings.HasPrefix(name, fmt.Sprintf("migrations/%04d_", n)) {
			return fmt.Errorf("migration %s out of sequence: want number %04d", name, n)
		}
		if n <= version {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// toNanos stores a time; the zero time is 0.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos reads a time stored by toNanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// isConstraint reports whether err is a SQLite constraint violation of the
// given extended code (for example SQLITE_CONSTRAINT_PRIMARYKEY).
func isConstraint(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

// isUnique reports a primary-key or unique violation.
func isUnique(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

// isForeignKey reports a foreign-key violation.
func isForeignKey(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// execOne runs a write that must touch exactly one row; none is notFound.
func (s *Store) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}
