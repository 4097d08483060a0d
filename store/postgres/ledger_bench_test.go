package postgres_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
	"github.com/turnkit/turnkit/store/sqlite"
)

// BenchmarkCharges measures the ledger's write path, in usage charges per
// second: SQLite against PostgreSQL in the same process, each delta in a
// transaction of its own (ApplyUsage) against batches of 100 and 500
// (ApplyUsageBatch), with one writer and with four at once. Each writer is
// a relay: a store handle of its own on the same file or database, with a
// session of its own, all charging one app. PostgreSQL runs with its
// default crash safety (pgtest.DurableDSN), SQLite in WAL mode with its
// default synchronous=FULL, so every commit is on disk.
//
//	go test -run '^$' -bench Charges -benchtime 3s ./store/postgres/
func BenchmarkCharges(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B, n int) []store.Store
	}{
		{"sqlite", func(b *testing.B, n int) []store.Store {
			path := filepath.Join(b.TempDir(), "bench.db")
			return openHandles(b, n, func() (store.Store, error) { return sqlite.Open(b.Context(), path) })
		}},
		{"postgres", func(b *testing.B, n int) []store.Store {
			dsn := pgtest.DurableDSN(b)
			return openHandles(b, n, func() (store.Store, error) { return postgres.Open(b.Context(), dsn) })
		}},
	}
	for _, be := range backends {
		for _, batch := range []int{1, 100, 500} {
			mode := "single"
			if batch > 1 {
				mode = "batch" + strconv.Itoa(batch)
			}
			for _, writers := range []int{1, 4} {
				b.Run(fmt.Sprintf("%s/%s/writers=%d", be.name, mode, writers), func(b *testing.B) {
					benchCharges(b, be.open(b, writers), batch)
				})
			}
		}
	}
}

// openHandles opens n handles, closed when b ends.
func openHandles(b *testing.B, n int, open func() (store.Store, error)) []store.Store {
	b.Helper()
	hs := make([]store.Store, n)
	for i := range hs {
		s, err := open()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		hs[i] = s
	}
	return hs
}

// benchCharges charges b.N deltas to one app, split among the handles,
// each charging deltas of its own session in batches of size batch (one
// at a time through ApplyUsage when batch is 1). It checks afterwards that
// the balance is the sum of the deltas.
func benchCharges(b *testing.B, handles []store.Store, batch int) {
	const app = "bench"
	var work [][]store.Usage
	for w, s := range handles {
		sess := fmt.Sprintf("relay%d", w)
		if err := s.OpenSession(b.Context(), store.Session{ID: sess, AppID: app, Username: "u", RelayID: sess, StartedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
		n := b.N / len(handles)
		if w == 0 {
			n += b.N % len(handles)
		}
		us := make([]store.Usage, n)
		for i := range us {
			us[i] = store.Usage{SessionID: sess, Seq: uint64(i + 1), AppID: app, ToPeer: 700, ToClient: 300, At: time.Now()}
		}
		work = append(work, us)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w, s := range handles {
		wg.Go(func() {
			<-start
			if err := charge(b, s, work[w], batch); err != nil {
				b.Errorf("writer %d: %v", w, err)
			}
		})
	}
	b.ResetTimer()
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "charges/s")
	bal, err := handles[0].Balance(b.Context(), app)
	if err != nil {
		b.Fatal(err)
	}
	if want := -1000 * int64(b.N); bal.Total() != want {
		b.Fatalf("balance %d after %d charges of 1000 bytes, want %d", bal.Total(), b.N, want)
	}
}

// charge applies us through s.
func charge(b *testing.B, s store.Store, us []store.Usage, batch int) error {
	fn := func(bal *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
		n := u.ToPeer + u.ToClient
		bal.PAYG -= n
		return []store.LedgerEntry{{At: u.At, Kind: "usage", Ref: "usage:" + u.SessionID + ":" + strconv.FormatUint(u.Seq, 10), PAYG: -n}}, nil
	}
	if batch == 1 {
		for _, u := range us {
			if _, err := s.ApplyUsage(b.Context(), u, func(bal *store.Balance) ([]store.LedgerEntry, error) { return fn(bal, u) }); err != nil {
				return err
			}
		}
		return nil
	}
	ub := s.(store.UsageBatcher)
	for chunk := range slices.Chunk(us, batch) {
		if _, err := ub.ApplyUsageBatch(b.Context(), chunk, fn); err != nil {
			return err
		}
	}
	return nil
}
