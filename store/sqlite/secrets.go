package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// AddSecret stores a new relay secret. It returns an error wrapping
// store.ErrExists if a secret with the same ID is stored. A nil Value is
// stored, and read back, as an empty one.
func (s *Store) AddSecret(ctx context.Context, sec store.Secret) error {
	created, err := nanos(sec.CreatedAt)
	if err != nil {
		return fmt.Errorf("sqlite: secret %q: created at: %w", sec.ID, err)
	}
	notAfter, err := nanos(sec.NotAfter)
	if err != nil {
		return fmt.Errorf("sqlite: secret %q: not after: %w", sec.ID, err)
	}
	value := sec.Value
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	_, err = s.write(ctx, `INSERT INTO secrets (id, value, created_at, not_after) VALUES (?, ?, ?, ?)`,
		sec.ID, value, created, notAfter)
	if err != nil {
		return fmt.Errorf("sqlite: secret %q: %w", sec.ID, err)
	}
	return nil
}

// ListSecrets returns every stored secret, oldest first; secrets created at
// the same time come in the order they were added. With no secrets it
// returns an empty slice.
func (s *Store) ListSecrets(ctx context.Context) ([]store.Secret, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, value, created_at, not_after FROM secrets ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: secrets: %w", err)
	}
	list, err := collect(rows, func(row scanner) (store.Secret, error) {
		var (
			sec               store.Secret
			created, notAfter sql.NullInt64
		)
		// Scan copies the bytes into a slice of the Secret's own.
		if err := row.Scan(&sec.ID, &sec.Value, &created, &notAfter); err != nil {
			return store.Secret{}, err
		}
		sec.CreatedAt, sec.NotAfter = fromNanos(created), fromNanos(notAfter)
		return sec, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: secrets: %w", err)
	}
	return list, nil
}

// RetireSecret sets the time after which a secret no longer verifies,
// replacing any earlier one; the zero time puts it back in service without
// an end. It returns an error wrapping store.ErrNotFound if there is no such
// secret.
func (s *Store) RetireSecret(ctx context.Context, id string, notAfter time.Time) error {
	v, err := nanos(notAfter)
	if err != nil {
		return fmt.Errorf("sqlite: secret %q: not after: %w", id, err)
	}
	if err := s.writeOne(ctx, `UPDATE secrets SET not_after = ? WHERE id = ?`, v, id); err != nil {
		return fmt.Errorf("sqlite: secret %q: %w", id, err)
	}
	return nil
}
