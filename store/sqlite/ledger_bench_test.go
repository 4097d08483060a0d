package sqlite_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// BenchmarkApplyUsage measures usage charges on SQLite: each is one
// transaction that records the delta, adds to the session and updates the
// balance and the journal.
func BenchmarkApplyUsage(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.OpenSession(b.Context(), store.Session{ID: "s", AppID: "a", Username: "u", RelayID: "r"}); err != nil {
		b.Fatal(err)
	}
	fn := func(bal *store.Balance) ([]store.LedgerEntry, error) {
		bal.PAYG -= 100
		return []store.LedgerEntry{{Kind: "usage", Ref: "u", PAYG: -100}}, nil
	}
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		ref := "usage:s:" + strconv.FormatUint(seq, 10)
		_, err := s.ApplyUsage(b.Context(), store.Usage{SessionID: "s", Seq: seq, AppID: "a", ToPeer: 100}, func(bal *store.Balance) ([]store.LedgerEntry, error) {
			es, err := fn(bal)
			es[0].Ref = ref
			return es, err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
