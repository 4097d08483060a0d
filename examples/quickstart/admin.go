package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
	"github.com/turnkit/turnkit/store/sqlite"
)

// adminTokenSetting names the store setting that keeps the SHA-256 of the
// dashboard's admin token: the token itself is printed once and kept
// nowhere.
const adminTokenSetting = "quickstart/admin-token-sha256"

// adminToken decides the admin token of the dashboard and the admin API.
// With -admin-token it is that one, used as given and not stored. Without
// it, it is the one whose hash the store keeps, made on first run: then it
// is printed at once (so a start that fails later does not lose it), and
// returned as fresh for the dashboard link. Nodes that start together on
// one store agree on the first one stored.
func adminToken(ctx context.Context, o options, stdout io.Writer) (hash [32]byte, fresh string, err error) {
	if o.adminToken != "" {
		return sha256.Sum256([]byte(o.adminToken)), "", nil
	}
	st, err := openSettings(ctx, o)
	if err != nil {
		return hash, "", err
	}
	defer st.Close()
	stored, err := st.Setting(ctx, adminTokenSetting)
	if err == nil && len(stored) == len(hash) {
		return [32]byte(stored), "", nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return hash, "", fmt.Errorf("admin token: %w", err)
	}
	token := "tka_" + strings.ToLower(rand.Text())
	hash = sha256.Sum256([]byte(token))
	stored, err = st.InitSetting(ctx, adminTokenSetting, hash[:])
	if err != nil {
		return hash, "", fmt.Errorf("admin token: %w", err)
	}
	if len(stored) != len(hash) {
		return hash, "", fmt.Errorf("admin token: the store's setting %s holds %d bytes, not a SHA-256", adminTokenSetting, len(stored))
	}
	if [32]byte(stored) != hash {
		return [32]byte(stored), "", nil // another node made it first
	}
	fmt.Fprintf(stdout, "admin token: %s\n", token)
	return hash, token, nil
}

// settingsStore is what adminToken uses of the store.
type settingsStore interface {
	store.Settings
	Close() error
}

// openSettings opens the store -db names, as the Kit does, for its
// settings.
func openSettings(ctx context.Context, o options) (settingsStore, error) {
	if dsn := o.postgresDSN(); dsn != "" {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, o.sqlitePath())
}

// printDashboard prints where the dashboard is: with the admin token in
// the link's fragment (which browsers never send) on the run that made the
// token.
func printDashboard(stdout io.Writer, httpAddr, fresh string) {
	if fresh != "" {
		fmt.Fprintf(stdout, "dashboard: http://%s/admin/#token=%s\n", httpAddr, fresh)
		return
	}
	fmt.Fprintf(stdout, "dashboard: http://%s/admin/ (the admin token was printed on first run, or is the one of -admin-token)\n", httpAddr)
}
