package postgres_test

import (
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/store"
)

// TestRefusedArguments: arguments the backend refuses before it reaches
// the server fail with an error that names the input.
func TestRefusedArguments(t *testing.T) {
	s := openStore(t, pgtest.DSN(t))
	defer s.Close()
	if _, err := s.Entries(t.Context(), "app1", 0, -1); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("Entries with limit -1: error %v, want one naming the limit", err)
	}
	// A payload over the server's limit of 8000 bytes.
	big := store.Change{Kind: store.ChangeKey, ID: strings.Repeat("k", 8000)}
	if err := s.Publish(t.Context(), big); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("Publish of a change of 8000 bytes: error %v, want one giving its size", err)
	}
}
