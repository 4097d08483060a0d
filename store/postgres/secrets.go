package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/turnkit/turnkit/store"
)

// AddSecret stores a new relay secret. It returns an error wrapping
// store.ErrExists if a secret with the same ID is stored. A nil Value is
// stored, and read back, as an empty one.
func (s *Store) AddSecret(ctx context.Context, sec store.Secret) error {
	value := sec.Value
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO secrets (id, value, created_at, not_after) VALUES ($1, $2, $3, $4)`,
		sec.ID, value, ts(sec.CreatedAt), ts(sec.NotAfter))
	if err != nil {
		return fmt.Errorf("postgres: secret %q: %w", sec.ID, classify(ctx, err))
	}
	return nil
}

// ListSecrets returns every stored secret, oldest first; secrets created at
// the same time come in the order they were added. With no secrets it
// returns an empty slice.
func (s *Store) ListSecrets(ctx context.Context) ([]store.Secret, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, value, created_at, not_after FROM secrets ORDER BY created_at, seq`)
	if err != nil {
		return nil, fmt.Errorf("postgres: secrets: %w", classify(ctx, err))
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Secret, error) {
		var (
			sec               store.Secret
			created, notAfter pgtype.Timestamptz
		)
		// Scanning into a []byte copies: the Secret owns its Value.
		if err := row.Scan(&sec.ID, &sec.Value, &created, &notAfter); err != nil {
			return store.Secret{}, err
		}
		sec.CreatedAt, sec.NotAfter = fromTS(created), fromTS(notAfter)
		return sec, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: secrets: %w", classify(ctx, err))
	}
	return list, nil
}

// RetireSecret sets the time after which a secret no longer verifies,
// replacing any earlier one; the zero time puts it back in service without
// an end. It returns an error wrapping store.ErrNotFound if there is no such
// secret.
func (s *Store) RetireSecret(ctx context.Context, id string, notAfter time.Time) error {
	if err := s.execOne(ctx, `UPDATE secrets SET not_after = $1 WHERE id = $2`, ts(notAfter), id); err != nil {
		return fmt.Errorf("postgres: secret %q: %w", id, err)
	}
	return nil
}
