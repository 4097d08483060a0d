package postgres

import (
	"testing"

	"github.com/turnkit/turnkit/internal/migrations"
)

// TestEmbeddedMigrations: the migrations compiled into the binary load.
// (The naming rules themselves are tested with internal/migrations.)
func TestEmbeddedMigrations(t *testing.T) {
	if _, err := migrations.Load(embedded, "migrations"); err != nil {
		t.Errorf("the embedded migrations: %v", err)
	}
}
