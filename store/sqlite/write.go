package sqlite

import "context"

// write runs one statement on the writer, after any other write of this
// Store, and returns how many rows it changed. Every write of the Store is a
// single statement, so it is atomic without an explicit transaction and
// takes the write lock when it starts.
func (s *Store) write(ctx context.Context, query string, args ...any) (int64, error) {
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-s.wsem }()
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}
