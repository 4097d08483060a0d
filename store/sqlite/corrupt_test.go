package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// TestCorruptRowsFail: a row that another program damaged (regions or
// URLs that are not a JSON array) fails the read that meets it with an
// error naming the record, instead of yielding a made-up value.
func TestCorruptRowsFail(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "turnkit.db")
	s := openStore(t, path)
	if err := s.CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.AnnounceRelay(ctx, store.RelayRecord{ID: "relay1", URLs: []string{"turn:127.0.0.1"}, ReportedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	for _, q := range []string{
		`UPDATE apps SET regions = '{"eu":1}' WHERE id = 'app1'`,
		`UPDATE relays SET urls = 'turn:127.0.0.1' WHERE id = 'relay1'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	reads := []struct {
		name, want string
		read       func() error
	}{
		{"App", `"app1": regions`, func() error { _, err := s.App(ctx, "app1"); return err }},
		{"ListApps", `"app1": regions`, func() error { _, err := s.ListApps(ctx, "", 10); return err }},
		{"ListRelays", `"relay1": urls`, func() error { _, err := s.ListRelays(ctx); return err }},
	}
	for _, r := range reads {
		if err := r.read(); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s of a damaged row: error %v, want one naming %s", r.name, err, r.want)
		}
	}
}
