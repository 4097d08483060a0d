// Package migrations reads the numbered SQL files that take a store
// backend's schema from one version to the next. Each backend embeds its
// own files and applies them its own way (SQLite with user_version,
// PostgreSQL with a schema_migrations table under an advisory lock); the
// rules for naming and ordering the files are the same for both, and live
// here.
package migrations

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one schema change: the SQL that takes the schema from
// Version-1 to Version.
type Migration struct {
	// Version is the number the file's name starts with: 1 for the first.
	Version int
	// Name is the file's name, such as "0001_init.sql".
	Name string
	// SQL is the file's content.
	SQL string
}

// Load reads the migrations of dir in fsys: the files named NNNN_name.sql,
// whose numbers must run 1, 2, 3… without gaps or repeats (the number's
// width does not matter: "01_b.sql" is number 1). Other files and
// subdirectories are ignored. The result is in version order. Load fails,
// naming the file, when a .sql file is not numbered, when a number is out
// of turn, and when dir holds no migration at all.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries { // ReadDir sorts by name, so by number
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name is not NNNN_name.sql", e.Name())
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %q: number %d, want %d", e.Name(), v, len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration %q: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, errors.New("migrations: none found")
	}
	return ms, nil
}
