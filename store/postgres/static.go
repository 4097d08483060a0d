package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
	_, err := s.pool.Exec(ctx, `INSERT INTO static_credentials (`+staticColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.Username, c.Password, c.Label, c.AppID, c.APIKeyHash[:], ts(c.CreatedAt), ts(c.ExpiresAt))
	if err != nil {
		err = classify(ctx, err)
		if hasCode(err, foreignKeyViolation) {
			err = fmt.Errorf("app %q: %w", c.AppID, err)
		}
		return fmt.Errorf("postgres: static credential %q: %w", c.Username, err)
	}
	return nil
}

// StaticCredential returns the static credential with the given username,
// expired or not, or an error wrapping store.ErrNotFound.
func (s *Store) StaticCredential(ctx context.Context, username string) (store.StaticCredential, error) {
	c, err := scanStatic(s.pool.QueryRow(ctx, `SELECT `+staticColumns+` FROM static_credentials WHERE username = $1`, username))
	if err != nil {
		return store.StaticCredential{}, fmt.Errorf("postgres: static credential %q: %w", username, classify(ctx, err))
	}
	return c, nil
}

// StaticCredentialByAPIKey returns the static credential whose front-end
// API key has the given hash, expired or not, or an error wrapping
// store.ErrNotFound.
func (s *Store) StaticCredentialByAPIKey(ctx context.Context, hash [32]byte) (store.StaticCredential, error) {
	c, err := scanStatic(s.pool.QueryRow(ctx, `SELECT `+staticColumns+` FROM static_credentials WHERE api_key_hash = $1`, hash[:]))
	if err != nil {
		return store.StaticCredential{}, fmt.Errorf("postgres: static credential with API key hash %x…: %w", hash[:4], classify(ctx, err))
	}
	return c, nil
}

// ListStaticCredentials returns the page of an app's static credentials
// that q selects, oldest first, and how many match in all, in one
// statement so that the two agree.
func (s *Store) ListStaticCredentials(ctx context.Context, q store.StaticQuery) ([]store.StaticCredential, int, error) {
	conds, args := []string{"app_id = $1"}, []any{q.AppID}
	if q.Label != "" {
		args = append(args, q.Label)
		conds = append(conds, "label = $"+strconv.Itoa(len(args)))
	}
	if !q.ActiveAt.IsZero() {
		args = append(args, q.ActiveAt)
		conds = append(conds, "(expires_at IS NULL OR expires_at > $"+strconv.Itoa(len(args))+")")
	}
	var limit *int64 // NULL: no limit
	if q.Limit > 0 {
		l := int64(q.Limit)
		limit = &l
	}
	where := strings.Join(conds, " AND ")
	args = append(args, limit, int64(max(q.Offset, 0)))
	rows, err := s.pool.Query(ctx, `SELECT `+staticColumns+`, count(*) OVER () FROM static_credentials
		WHERE `+where+`
		ORDER BY created_at, username LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: static credentials of app %q: %w", q.AppID, classify(ctx, err))
	}
	var total int64
	page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.StaticCredential, error) {
		return scanStatic(row, &total)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: static credentials of app %q: %w", q.AppID, classify(ctx, err))
	}
	if len(page) == 0 && q.Offset > 0 {
		// A page past the end has no row to carry the count.
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM static_credentials WHERE `+where, args[:len(args)-2]...).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("postgres: static credentials of app %q: %w", q.AppID, classify(ctx, err))
		}
	}
	return page, int(total), nil
}

// DeleteStaticCredentials deletes the app's static credentials that m
// names, in one statement, and returns their usernames.
func (s *Store) DeleteStaticCredentials(ctx context.Context, appID string, m store.StaticMatch) ([]string, error) {
	var (
		cond, what string
		arg        string
	)
	switch {
	case m.Username != "" && m.Label == "":
		cond, arg, what = "username = $2", m.Username, fmt.Sprintf("username %q", m.Username)
	case m.Label != "" && m.Username == "":
		cond, arg, what = "label = $2", m.Label, fmt.Sprintf("label %q", m.Label)
	default:
		return nil, fmt.Errorf("postgres: delete static credentials of app %q: set exactly one of username and label", appID)
	}
	rows, err := s.pool.Query(ctx, `DELETE FROM static_credentials WHERE app_id = $1 AND `+cond+` RETURNING username`, appID, arg)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete static credentials of app %q with %s: %w", appID, what, classify(ctx, err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string]) // never nil: an empty slice for no row
	if err != nil {
		return nil, fmt.Errorf("postgres: delete static credentials of app %q with %s: %w", appID, what, classify(ctx, err))
	}
	return names, nil
}

// scanStatic reads a row selected as staticColumns, then into extra.
func scanStatic(row pgx.Row, extra ...any) (store.StaticCredential, error) {
	var (
		c                store.StaticCredential
		hash             []byte
		created, expires pgtype.Timestamptz
	)
	if err := row.Scan(append([]any{&c.Username, &c.Password, &c.Label, &c.AppID, &hash, &created, &expires}, extra...)...); err != nil {
		return store.StaticCredential{}, err
	}
	h, err := toHash(hash)
	if err != nil {
		return store.StaticCredential{}, fmt.Errorf("static credential %q: %w", c.Username, err)
	}
	c.APIKeyHash, c.CreatedAt, c.ExpiresAt = h, fromTS(created), fromTS(expires)
	return c, nil
}
