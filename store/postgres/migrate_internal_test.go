package postgres

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadMigrations: migration files must be numbered 1, 2, 3… without
// gaps or repeats.
func TestLoadMigrations(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	cases := []struct {
		name  string
		files fstest.MapFS
		err   string // empty: no error
	}{
		{"InOrder", fstest.MapFS{"migrations/0001_a.sql": sql, "migrations/0002_b.sql": sql, "migrations/README": sql}, ""},
		{"Gap", fstest.MapFS{"migrations/0001_a.sql": sql, "migrations/0003_c.sql": sql}, "number 3, want 2"},
		{"Repeat", fstest.MapFS{"migrations/0001_a.sql": sql, "migrations/0001_b.sql": sql}, "number 1, want 2"},
		{"NoNumber", fstest.MapFS{"migrations/init.sql": sql}, "not NNNN_name.sql"},
		{"Zero", fstest.MapFS{"migrations/0000_a.sql": sql}, "not NNNN_name.sql"},
		{"None", fstest.MapFS{"migrations/README": sql}, "none found"},
		{"NoDirectory", fstest.MapFS{}, "migrations"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms, err := loadMigrations(c.files)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("loadMigrations: %v", err)
			case c.err == "" && (len(ms) != 2 || ms[0].version != 1 || ms[1].name != "0002_b.sql"):
				t.Fatalf("loadMigrations = %+v", ms)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("loadMigrations error %v, want one saying %q", err, c.err)
			}
		})
	}
	if _, err := loadMigrations(embedded); err != nil {
		t.Errorf("the embedded migrations: %v", err)
	}
}
