package postgres

import (
	"context"

	"github.com/turnkit/turnkit/store"
)

// execOne runs a statement that changes the row its arguments name, and
// returns an error wrapping store.ErrNotFound if it changed none. The
// error is classified (see classify).
func (s *Store) execOne(ctx context.Context, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	return classify(ctx, err)
}
