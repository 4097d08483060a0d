package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// SQLSTATE codes the store acts on.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// ts encodes t as the value of a timestamptz column: NULL for the zero
// time. PostgreSQL keeps microseconds.
func ts(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// fromTS decodes a timestamptz column: the time in UTC, or the zero time
// for NULL.
func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// texts returns list, or an empty slice for nil: pgx encodes a nil slice
// as NULL, and array columns are NOT NULL.
func texts(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// rowTo adapts a function that reads one row, as QueryRow's result and
// Rows both can be read, to pgx.CollectRows.
func rowTo[T any](scan func(pgx.Row) (T, error)) pgx.RowToFunc[T] {
	return func(row pgx.CollectableRow) (T, error) { return scan(row) }
}

// toHash converts the value of a hash column.
func toHash(b []byte) ([32]byte, error) {
	if len(b) != 32 {
		return [32]byte{}, fmt.Errorf("stored hash has %d bytes, want 32", len(b))
	}
	return [32]byte(b), nil
}

// classify maps what the server or the driver returned to the errors of
// the contract, keeping the original in the chain: a duplicate primary key
// or unique value is store.ErrExists, a missing parent row (the app of a
// key) store.ErrNotFound, no row store.ErrNotFound. When ctx is done, the
// error wraps ctx's error too, whatever the driver made of it.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrExists, err)
		case foreignKeyViolation:
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// retryable reports whether a transaction that failed with err may
// succeed if run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == serializationFailure || pe.Code == deadlockDetected)
}

// hasCode reports whether err is a PostgreSQL error with the given code.
func hasCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}
