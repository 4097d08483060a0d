package postgres

import (
	"context"
	"fmt"
)

// Setting returns the value stored under name, or an error wrapping
// store.ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("postgres: setting %q: %w", name, classify(ctx, err))
	}
	return v, nil
}

// InitSetting stores value under name unless a value is stored there, and
// returns the stored value: among nodes racing to create it, the first
// writer wins. An insert that meets another node's uncommitted one waits
// for it, so the read that follows sees the winner's value.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, value); err != nil {
		return nil, fmt.Errorf("postgres: init setting %q: %w", name, classify(ctx, err))
	}
	return s.Setting(ctx, name)
}
