package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/turnkit/turnkit/store"
)

var _ store.StaticCredentials = (*Store)(nil)

// staticColumns are the columns scanStatic reads, in its order.
const staticColumns = `username, password, label, app_id, api_key_hash, created_at, expires_at`

// CreateStaticCredential stores a new static credential. It returns an
// error wrapping store.ErrExists if a credential with the same username or
// API key hash is stored, and one wrapping store.ErrNotFound if the
// credential's app does not exist.
func (s *Store) CreateStaticCredential(ctx context.Context, c store.StaticCredential) error {
	created, err := nanos(c.CreatedAt)
	if err != nil {
		return fmt.Errorf("sqlite: static credential %q: created at: %w", c.Username, err)
	}
	expires, err := nanos(c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("sqlite: static credential %q: expires at: %w", c.Username, err)
	}
	// The app check is part of the statement, as for API keys, so it holds
	// whatever the connection's foreign_keys setting.
	n, err := s.write(ctx, `INSERT INTO static_credentials (`+staticColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM apps WHERE id = ?)`,
		c.Username, c.Password, c.Label, c.AppID, c.APIKeyHash[:], created, expires, c.AppID)
	if err == nil && n == 0 {
		err = fmt.Errorf("app %q: %w", c.AppID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: static credential %q: %w", c.Username, err)
	}
	return nil
}

// StaticCredential returns the static credential with the given username,
// expired or not, or an error wrapping store.ErrNotFound.
func (s *Store) StaticCredential(ctx context.Context, username string) (store.StaticCredential, error) {
	c, err := scanStatic(s.r.QueryRowContext(ctx, `SELECT `+staticColumns+` FROM static_credentials WHERE username = ?`, username))
	if err != nil {
		return store.StaticCredential{}, fmt.Errorf("sqlite: static credential %q: %w", username, notFound(err))
	}
	return c, nil
}

// StaticCredentialByAPIKey returns the static credential whose front-end
// API key has the given hash, expired or not, or an error wrapping
// store.ErrNotFound.
func (s *Store) StaticCredentialByAPIKey(ctx context.Context, hash [32]byte) (store.StaticCredential, error) {
	c, err := scanStatic(s.r.QueryRowContext(ctx, `SELECT `+staticColumns+` FROM static_credentials WHERE api_key_hash = ?`, hash[:]))
	if err != nil {
		return store.StaticCredential{}, fmt.Errorf("sqlite: static credential with API key hash %x…: %w", hash[:4], notFound(err))
	}
	return c, nil
}

// ListStaticCredentials returns the page of an app's static credentials
// that q selects, oldest first, and how many match in all.
func (s *Store) ListStaticCredentials(ctx context.Context, q store.StaticQuery) ([]store.StaticCredential, int, error) {
	where, args, err := staticWhere(q)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: static credentials of app %q: %w", q.AppID, err)
	}
	// One read transaction, so that the page and the count agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: static credentials of app %q: %w", q.AppID, err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to undo
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM static_credentials WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: static credentials of app %q: %w", q.AppID, err)
	}
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+staticColumns+` FROM static_credentials WHERE `+where+`
		ORDER BY created_at, username LIMIT ? OFFSET ?`, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: static credentials of app %q: %w", q.AppID, err)
	}
	page, err := collect(rows, scanStatic)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: static credentials of app %q: %w", q.AppID, err)
	}
	return page, total, nil
}

// staticWhere is the WHERE clause of a listing and its arguments.
func staticWhere(q store.StaticQuery) (string, []any, error) {
	conds, args := []string{"app_id = ?"}, []any{q.AppID}
	if q.Label != "" {
		conds, args = append(conds, "label = ?"), append(args, q.Label)
	}
	if !q.ActiveAt.IsZero() {
		at, err := nanos(q.ActiveAt)
		if err != nil {
			return "", nil, fmt.Errorf("active at: %w", err)
		}
		conds, args = append(conds, "(expires_at IS NULL OR expires_at > ?)"), append(args, at)
	}
	return strings.Join(conds, " AND "), args, nil
}

// DeleteStaticCredentials deletes the app's static credentials that m
// names, in one statement, and returns their usernames.
func (s *Store) DeleteStaticCredentials(ctx context.Context, appID string, m store.StaticMatch) ([]string, error) {
	var (
		cond, what string
		arg        any
	)
	switch {
	case m.Username != "" && m.Label == "":
		cond, arg, what = "username = ?", m.Username, fmt.Sprintf("username %q", m.Username)
	case m.Label != "" && m.Username == "":
		cond, arg, what = "label = ?", m.Label, fmt.Sprintf("label %q", m.Label)
	default:
		return nil, fmt.Errorf("sqlite: delete static credentials of app %q: set exactly one of username and label", appID)
	}
	names, err := s.writeReturning(ctx, `DELETE FROM static_credentials WHERE app_id = ? AND `+cond+` RETURNING username`, appID, arg)
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete static credentials of app %q with %s: %w", appID, what, err)
	}
	return names, nil
}

// writeReturning runs one statement with a RETURNING clause of one text
// column on the writer, after any other write of this Store, and returns
// the values it returned.
func (s *Store) writeReturning(ctx context.Context, query string, args ...any) ([]string, error) {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rows, err := s.w.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(err)
	}
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		out = append(out, v)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, classify(err)
	}
	return out, nil
}

// scanStatic reads a static_credentials row selected as staticColumns.
func scanStatic(row scanner) (store.StaticCredential, error) {
	var (
		c                store.StaticCredential
		hash             []byte
		created, expires sql.NullInt64
	)
	if err := row.Scan(&c.Username, &c.Password, &c.Label, &c.AppID, &hash, &created, &expires); err != nil {
		return store.StaticCredential{}, err
	}
	h, err := toHash(hash)
	if err != nil {
		return store.StaticCredential{}, fmt.Errorf("static credential %q: %w", c.Username, err)
	}
	c.APIKeyHash, c.CreatedAt, c.ExpiresAt = h, fromNanos(created), fromNanos(expires)
	return c, nil
}
