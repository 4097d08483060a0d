package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/turnkit/turnkit/store"
)

// nanos encodes t as the value of a time column: Unix nanoseconds, or NULL
// for the zero time. It fails for a time outside the years 1678 to 2262.
func nanos(t time.Time) (sql.NullInt64, error) {
	if t.IsZero() {
		return sql.NullInt64{}, nil
	}
	if lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64); t.Before(lo) || t.After(hi) {
		return sql.NullInt64{}, fmt.Errorf("time %v out of range [%v, %v]", t, lo.UTC(), hi.UTC())
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}, nil
}

// fromNanos decodes the value of a time column: the time in UTC, or the
// zero time for NULL.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// scanner is a row to read: a *sql.Row or the current row of *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// collect reads every row of rows with scan and closes rows. It returns an
// empty slice, not nil, when there is no row.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// toHash converts the value of a hash column.
func toHash(b []byte) ([32]byte, error) {
	if len(b) != 32 {
		return [32]byte{}, fmt.Errorf("stored hash has %d bytes, want 32", len(b))
	}
	return [32]byte(b), nil
}

// classify maps the constraint violations of a write to the errors of the
// contract, keeping the driver's error in the chain: a duplicate primary key
// or unique value is store.ErrExists, a missing parent row (the app of a key)
// store.ErrNotFound.
func classify(err error) error {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %w", store.ErrExists, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
