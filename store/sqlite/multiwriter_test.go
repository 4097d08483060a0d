package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// TestApplyFromTwoHandles: balance changes through two handles of one file
// (two processes, in effect) at once all succeed: Apply reads the balance
// before it writes, and a transaction that began deferred would fail with
// SQLITE_BUSY_SNAPSHOT when the other handle wrote in between.
func TestApplyFromTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "turnkit.db")
	var handles []*sqlite.Store
	for range 2 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		handles = append(handles, s)
	}
	const per = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*4*per)
	for h, s := range handles {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					ref := fmt.Sprintf("h%d-g%d-%d", h, g, i)
					_, err := s.Apply(ctx, "app", ref, func(b *store.Balance) ([]store.LedgerEntry, error) {
						b.PAYG++
						return []store.LedgerEntry{{Kind: "topup", Ref: ref, PAYG: 1}}, nil
					})
					if err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Apply from two handles: %v", err)
	}
	b, err := handles[0].Balance(ctx, "app")
	if err != nil || b.PAYG != 2*4*per {
		t.Fatalf("balance %+v, %v; want PAYG %d", b, err, 2*4*per)
	}
}
