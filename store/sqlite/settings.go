package sqlite

import (
	"context"
	"fmt"
)

// Setting returns the value stored under name.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("sqlite: setting %q: %w", name, notFound(err))
	}
	return v, nil
}

// InitSetting stores value under name unless one is stored, and returns
// the stored value.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if _, err := s.write(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return nil, fmt.Errorf("sqlite: init setting %q: %w", name, err)
	}
	var v []byte
	if err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("sqlite: setting %q: %w", name, err)
	}
	return v, nil
}
