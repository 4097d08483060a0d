package sqlite

import (
	"path/filepath"
	"testing"
)

// TestConnectionSettings: both pools of a Store made by Open have the busy
// timeout and foreign keys on, the writer has one connection, and the
// readers cannot write.
func TestConnectionSettings(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "turnkit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pragma := func(pool string, q string) int {
		t.Helper()
		db := s.w
		if pool == "reader" {
			db = s.r
		}
		var v int
		if err := db.QueryRowContext(t.Context(), q).Scan(&v); err != nil {
			t.Fatalf("%s: %s: %v", pool, q, err)
		}
		return v
	}
	for _, pool := range []string{"writer", "reader"} {
		if v := pragma(pool, "PRAGMA busy_timeout"); v != int(busyTimeout.Milliseconds()) {
			t.Errorf("%s busy_timeout = %d, want %d", pool, v, busyTimeout.Milliseconds())
		}
		if v := pragma(pool, "PRAGMA foreign_keys"); v != 1 {
			t.Errorf("%s foreign_keys = %d, want 1", pool, v)
		}
	}
	if v := pragma("writer", "PRAGMA query_only"); v != 0 {
		t.Errorf("writer query_only = %d, want 0", v)
	}
	if v := pragma("reader", "PRAGMA query_only"); v != 1 {
		t.Errorf("reader query_only = %d, want 1", v)
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", n)
	}
	if _, err := s.r.ExecContext(t.Context(), "DELETE FROM apps"); err == nil {
		t.Error("a write through the reader pool succeeded, want an error")
	}
}

// TestURIPath: paths become SQLite URI paths that mean the same file.
func TestURIPath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"turnkit.db", "turnkit.db"},
		{"data/turnkit.db", "data/turnkit.db"},
		{"/var/lib/turnkit.db", "///var/lib/turnkit.db"},
		{"//net/share.db", "////net/share.db"},
		{"a?b#c%d.db", "a%3fb%23c%25d.db"},
	}
	for _, c := range cases {
		if got := uriPath(c.in); got != c.want {
			t.Errorf("uriPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
