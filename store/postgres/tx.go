package postgres

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// Retries of transactions that PostgreSQL aborted to break a deadlock or a
// serialization conflict.
const (
	// maxAttempts bounds how often such a transaction runs.
	maxAttempts = 10
	// maxBackoff bounds the pause before a retry, which doubles from 1ms
	// with each attempt, with jitter.
	maxBackoff = 100 * time.Millisecond
)

// inTx runs fn in a read-committed transaction and commits unless fn
// fails. A transaction aborted by a deadlock or a serialization failure is
// run again, fn included, up to maxAttempts times. The error is classified
// (see classify).
//
// Transactions take their row locks in one order — usage records, then
// sessions, then balances, each by key — so that deadlocks between them
// are rare; the retry covers the rest.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil {
			return nil
		}
		if !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return classify(ctx, err)
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) (err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			rollback(ctx, tx)
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// pause waits before retry number attempt, or until ctx is done.
func pause(ctx context.Context, attempt int) error {
	d := min(time.Millisecond<<min(attempt, 10), maxBackoff)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
