package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
	"github.com/turnkit/turnkit/store/storetest"
)

// TestShared runs the cases of several nodes on one database: each handle
// is a Store opened by Open on the same file, as processes sharing a disk
// would. SQLite has no Notifier, so those cases skip; the writers case
// runs.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) storetest.Shared {
		path := filepath.Join(t.TempDir(), "turnkit.db")
		return storetest.Shared{Open: func(t *testing.T) store.Store {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}}
	})
}
