package migrations_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/turnkit/turnkit/internal/migrations"
)

// files returns a file system holding, under dir, the files of
// name-content pairs.
func files(dir string, pairs ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i < len(pairs); i += 2 {
		fsys[dir+"/"+pairs[i]] = &fstest.MapFile{Data: []byte(pairs[i+1])}
	}
	return fsys
}

// TestLoad: migration files must be numbered 1, 2, 3… without gaps or
// repeats; other files are ignored; a directory without migrations, or
// none at all, is an error that says so.
func TestLoad(t *testing.T) {
	const (
		m1 = "CREATE TABLE one (x INTEGER);"
		m2 = "CREATE TABLE two (x INTEGER);"
		m3 = "CREATE TABLE three (x INTEGER);"
	)
	withSubdir := files("migrations", "0001_a.sql", m1, "0002_b.sql", m2)
	withSubdir["migrations/0003_c.sql/0003_c.sql"] = &fstest.MapFile{Data: []byte(m3)}
	cases := []struct {
		name string
		fsys fs.FS
		dir  string
		want []migrations.Migration // nil: an error
		err  string                 // what the error says
	}{
		{"InOrder", files("migrations", "0001_a.sql", m1, "0002_b.sql", m2, "README", "not SQL"), "migrations",
			[]migrations.Migration{{1, "0001_a.sql", m1}, {2, "0002_b.sql", m2}}, ""},
		{"OtherDirectory", files("schema/pg", "1_a.sql", m1, "2_b.sql", m2, "3_c.sql", m3), "schema/pg",
			[]migrations.Migration{{1, "1_a.sql", m1}, {2, "2_b.sql", m2}, {3, "3_c.sql", m3}}, ""},
		{"SubdirectoryIgnored", withSubdir, "migrations",
			[]migrations.Migration{{1, "0001_a.sql", m1}, {2, "0002_b.sql", m2}}, ""},
		{"Gap", files("migrations", "0001_a.sql", m1, "0003_c.sql", m3), "migrations", nil, `migration "0003_c.sql": number 3, want 2`},
		{"Repeat", files("migrations", "0001_a.sql", m1, "0001_b.sql", m2), "migrations", nil, `migration "0001_b.sql": number 1, want 2`},
		{"RepeatOtherWidth", files("migrations", "0001_a.sql", m1, "01_b.sql", m2), "migrations", nil, "number 1, want 2"},
		{"StartsAtTwo", files("migrations", "0002_b.sql", m2), "migrations", nil, "number 2, want 1"},
		{"NoNumber", files("migrations", "init.sql", m1), "migrations", nil, `migration "init.sql": name is not NNNN_name.sql`},
		{"NoUnderscore", files("migrations", "0001.sql", m1), "migrations", nil, "not NNNN_name.sql"},
		{"Zero", files("migrations", "0000_a.sql", m1), "migrations", nil, "not NNNN_name.sql"},
		{"Negative", files("migrations", "-1_a.sql", m1), "migrations", nil, "not NNNN_name.sql"},
		{"None", files("migrations", "README", "x"), "migrations", nil, "migrations: none found"},
		{"Empty", fstest.MapFS{"migrations": &fstest.MapFile{Mode: fs.ModeDir}}, "migrations", nil, "none found"},
		{"NoDirectory", fstest.MapFS{}, "migrations", nil, "migrations: open migrations"},
		{"WrongDirectory", files("migrations", "0001_a.sql", m1), "schema", nil, "open schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms, err := migrations.Load(c.fsys, c.dir)
			if c.want == nil {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Load = %+v, %v; want an error saying %q", ms, err, c.err)
				}
				if ms != nil {
					t.Errorf("Load returned %+v with its error, want nothing", ms)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(ms) != len(c.want) {
				t.Fatalf("Load = %+v, want %+v", ms, c.want)
			}
			for i := range ms {
				if ms[i] != c.want[i] {
					t.Errorf("migration %d = %+v, want %+v", i, ms[i], c.want[i])
				}
			}
		})
	}
}

// TestLoadMissingDirectoryWraps: a directory that is not there is
// reported as fs.ErrNotExist, for callers that match on it.
func TestLoadMissingDirectoryWraps(t *testing.T) {
	if _, err := migrations.Load(fstest.MapFS{}, "migrations"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing directory: %v, want it to wrap %v", err, fs.ErrNotExist)
	}
}
