package sqlite

import (
	"context"

	"github.com/turnkit/turnkit/store"
)

// lockWrites waits for the Store's other writes to end, or for ctx to be
// done, and returns the function that lets the next write run.
func (s *Store) lockWrites(ctx context.Context) (unlock func(), err error) {
	select {
	case s.wsem <- struct{}{}:
		return func() { <-s.wsem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// write runs one statement on the writer, after any other write of this
// Store, and returns how many rows it changed. Every write of the Store is a
// single statement, so it is atomic without an explicit transaction and
// takes the write lock when it starts.
func (s *Store) write(ctx context.Context, query string, args ...any) (int64, error) {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}

// writeOne runs, as write does, a statement that changes the row its
// arguments name, and returns store.ErrNotFound if it changed none.
func (s *Store) writeOne(ctx context.Context, query string, args ...any) error {
	n, err := s.write(ctx, query, args...)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return err
}
