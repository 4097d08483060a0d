package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// AddSecret stores a new relay secret.
func (s *Store) AddSecret(ctx context.Context, sec store.Secret) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO relay_secrets (id, value, created_at, not_after) VALUES (?, ?, ?, ?)`,
		sec.ID, sec.Value, toNanos(sec.CreatedAt), toNanos(sec.NotAfter))
	switch {
	case isUnique(err):
		return fmt.Errorf("sqlite: secret %q: %w", sec.ID, store.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: add secret %q: %w", sec.ID, err)
	}
	return nil
}

// ListSecrets returns every secret, oldest first.
func (s *Store) ListSecrets(ctx context.Context) ([]store.Secret, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, value, created_at, not_after FROM relay_secrets ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list secrets: %w", err)
	}
	defer rows.Close()
	out := []store.Secret{}
	for rows.Next() {
		var sec store.Secret
		var created, notAfter int64
		if err := rows.Scan(&sec.ID, &sec.Value, &created, &notAfter); err != nil {
			return nil, fmt.Errorf("sqlite: list secrets: %w", err)
		}
		sec.CreatedAt, sec.NotAfter = fromNanos(created), fromNanos(notAfter)
		out = append(out, sec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list secrets: %w", err)
	}
	return out, nil
}

// RetireSecret sets the time after which a secret stops verifying.
func (s *Store) RetireSecret(ctx context.Context, id string, notAfter time.Time) error {
	err := s.execOne(ctx, store.ErrNotFound, `UPDATE relay_secrets SET not_after = ? WHERE id = ?`, toNanos(notAfter), id)
	if err != nil {
		return fmt.Errorf("sqlite: retire secret %q: %w", id, err)
	}
	return nil
}
