package turnkit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/store"
)

const gb = turnkit.GB

// journalMatches checks the invariant: the sums of the journal are the
// balance's buckets.
func journalMatches(t *testing.T, l *turnkit.Ledger, st store.Store, appID string) {
	t.Helper()
	ctx := context.Background()
	entries, err := l.Entries(ctx, appID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var sub, payg int64
	last := int64(0)
	for _, e := range entries {
		if e.ID <= last {
			t.Fatalf("entry IDs not increasing: %d after %d", e.ID, last)
		}
		last = e.ID
		sub += e.Subscription
		payg += e.PAYG
	}
	b, err := st.Balance(ctx, appID) // as stored, without a pending refill
	if err != nil {
		t.Fatal(err)
	}
	if b.Subscription != sub || b.PAYG != payg {
		t.Fatalf("balance (sub %d, payg %d) but journal sums (sub %d, payg %d) over %d entries",
			b.Subscription, b.PAYG, sub, payg, len(entries))
	}
}

func charge(t *testing.T, l *turnkit.Ledger, appID, session string, seq uint64, bytes int64) bool {
	t.Helper()
	ok, err := l.Charge(context.Background(), store.Usage{SessionID: session, Seq: seq, AppID: appID, ToPeer: bytes / 2, ToClient: bytes - bytes/2})
	if err != nil {
		t.Fatalf("Charge: %v", err)
	}
	return ok
}

func TestBucketOrderAndNegativePAYG(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	l, app := tk.Ledger(), tk.app.App.ID
	if err := l.SetPlan(ctx, app, 3*gb); err != nil {
		t.Fatal(err)
	}
	if _, err := l.TopUp(ctx, app, 2*gb, "pay-1"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		charge    int64
		sub, payg int64
	}{
		{"from subscription", 1 * gb, 2 * gb, 2 * gb},
		{"exactly empties subscription", 2 * gb, 0, 2 * gb},
		{"then PAYG", gb / 2, 0, 2*gb - gb/2},
		{"spanning into negative PAYG", 2 * gb, 0, -gb / 2},
		{"further negative", 7, 0, -gb/2 - 7},
	}
	for i, s := range steps {
		charge(t, l, app, "s1", uint64(i+1), s.charge)
		b, err := l.Balance(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		if b.Subscription != s.sub || b.PAYG != s.payg {
			t.Fatalf("%s: sub %d payg %d, want %d %d", s.name, b.Subscription, b.PAYG, s.sub, s.payg)
		}
		journalMatches(t, l, tk.Store(), app)
	}
	// Split of one charge across buckets is journaled as one entry.
	es, _ := l.Entries(ctx, app, 0, 100)
	last := es[len(es)-2] // the 2 GB spanning charge
	if last.Kind != "usage" || last.Subscription != 0 || last.PAYG != -2*gb {
		t.Fatalf("entry %+v", last)
	}
	mid := es[len(es)-4] // the charge that emptied subscription
	if mid.Subscription != -2*gb || mid.PAYG != 0 {
		t.Fatalf("entry %+v", mid)
	}
}

func TestRefillAtPeriodBoundaries(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	l, app := tk.Ledger(), tk.app.App.ID
	start := tk.clock.Now()
	if err := l.SetPlan(ctx, app, 10*gb); err != nil {
		t.Fatal(err)
	}
	charge(t, l, app, "s", 1, 4*gb)
	end := start.AddDate(0, 1, 0)

	tk.clock.Advance(end.Sub(start) - time.Nanosecond) // last instant of the period
	if b, _ := l.Balance(ctx, app); b.Subscription != 6*gb {
		t.Fatalf("before the boundary: subscription %d, want 6 GB", b.Subscription)
	}
	tk.clock.Advance(time.Nanosecond) // the new period starts
	if b, _ := l.Balance(ctx, app); b.Subscription != 10*gb {
		t.Fatalf("at the boundary: subscription %d, want a refill to 10 GB (no rollover)", b.Subscription)
	}
	charge(t, l, app, "s", 2, 1*gb) // writes the refill, then charges
	b, _ := l.Balance(ctx, app)
	if b.Subscription != 9*gb || !b.PeriodStart.Equal(end) {
		t.Fatalf("after refill and charge: %+v, want 9 GB and period start %v", b, end)
	}
	// Three months idle: one refill, to the allowance, not three.
	tk.clock.Advance(end.AddDate(0, 3, 0).Sub(end) + time.Hour)
	charge(t, l, app, "s", 3, 0)
	b, _ = l.Balance(ctx, app)
	if b.Subscription != 10*gb || !b.PeriodStart.Equal(end.AddDate(0, 3, 0)) {
		t.Fatalf("after three idle months: %+v", b)
	}
	es, _ := l.Entries(ctx, app, 0, 100)
	refills := 0
	for _, e := range es {
		if e.Kind == "refill" {
			refills++
		}
	}
	if refills != 2 {
		t.Fatalf("%d refill entries, want 2", refills)
	}
	journalMatches(t, l, tk.Store(), app)
}

func TestReserve(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	l, st, app := tk.Ledger(), tk.Store(), tk.app.App.ID
	open := func(id string, started time.Time) {
		if err := st.OpenSession(ctx, store.Session{ID: id, AppID: app, Username: "u", RelayID: "r", StartedAt: started}); err != nil {
			t.Fatal(err)
		}
	}
	const perHour = 5 * gb
	cases := []struct {
		name    string
		ttl     time.Duration
		gateway bool
		want    int64
	}{
		{"no sessions, default ttl", 10 * time.Minute, false, 0},
		{"ttl 30 min is not long", 30 * time.Minute, false, 0},
		{"ttl 31 min adds 21 min at 5 GB/h", 31 * time.Minute, false, perHour * 21 / 60},
		{"ttl 70 min adds one hour", 70 * time.Minute, false, perHour},
		{"ttl 24 h", 24 * time.Hour, false, perHour * (24*60 - 10) / 60},
		{"gateway: one allocation", 3 * time.Minute, true, gb / 20},
	}
	for _, tc := range cases {
		got, err := l.Reserve(ctx, app, tc.ttl, tc.gateway)
		if err != nil || got != tc.want {
			t.Errorf("%s: reserve %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	// Two active sessions: 0.05 GB each; a gateway call still reserves one.
	now := tk.clock.Now()
	open("a1", now)
	open("a2", now)
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		gateway bool
		want    int64
	}{
		{"two active sessions", 10 * time.Minute, false, 2 * gb / 20},
		{"two active, ttl 31 min", 31 * time.Minute, false, 2*gb/20 + perHour*21/60},
		{"gateway ignores active sessions", 3 * time.Minute, true, gb / 20},
	} {
		if got, err := l.Reserve(ctx, app, tc.ttl, tc.gateway); err != nil || got != tc.want {
			t.Errorf("%s: reserve %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	// History: one ended session, 3.6 GB in one hour = 1 MB/s.
	open("h1", now.Add(-time.Hour))
	if _, err := l.Charge(ctx, store.Usage{SessionID: "h1", Seq: 1, AppID: app, ToPeer: 3_600_000_000}); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSession(ctx, "h1", now); err != nil {
		t.Fatal(err)
	}
	got, err := l.Reserve(ctx, app, 31*time.Minute, false)
	if want := 2*gb/20 + 21*60*1_000_000; err != nil || got != want {
		t.Errorf("with history: reserve %d (%v), want %d (21 min at 1 MB/s)", got, err, want)
	}
	if got, _ := l.Reserve(ctx, app, 30*time.Minute, false); got != 2*gb/20 {
		t.Errorf("with history, ttl 30 min: reserve %d, want only the sessions' %d", got, 2*gb/20)
	}
}

func TestChargeOnce(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	l, app := tk.Ledger(), tk.app.App.ID
	if _, err := l.TopUp(ctx, app, 10*gb, "p"); err != nil {
		t.Fatal(err)
	}
	if !charge(t, l, app, "dup", 1, 1000) || charge(t, l, app, "dup", 1, 1000) {
		t.Fatal("the same delta twice: want applied then not applied")
	}
	// Concurrently: 16 goroutines deliver the same 50 deltas.
	var wg sync.WaitGroup
	var applied atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint64(2); seq <= 51; seq++ {
				ok, err := l.Charge(ctx, store.Usage{SessionID: "dup", Seq: seq, AppID: app, ToClient: 10})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					applied.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if applied.Load() != 50 {
		t.Fatalf("%d deltas applied, want 50", applied.Load())
	}
	b, _ := l.Balance(ctx, app)
	if want := 10*gb - 1000 - 500; b.PAYG != want {
		t.Fatalf("PAYG %d, want %d", b.PAYG, want)
	}
	journalMatches(t, l, tk.Store(), app)
	// Top-ups are idempotent by reference too.
	if ok, _ := l.TopUp(ctx, app, gb, "p"); ok {
		t.Fatal("a second top-up with the same reference applied")
	}
	for _, bad := range []struct {
		bytes int64
		ref   string
	}{{0, "x"}, {-5, "x"}, {5, ""}} {
		if _, err := l.TopUp(ctx, app, bad.bytes, bad.ref); !errors.Is(err, turnkit.ErrBadRequest) {
			t.Errorf("TopUp(%d, %q): %v, want ErrBadRequest", bad.bytes, bad.ref, err)
		}
	}
	if _, err := l.Charge(ctx, store.Usage{SessionID: "neg", Seq: 1, AppID: app, ToPeer: -1}); !errors.Is(err, turnkit.ErrBadRequest) {
		t.Errorf("negative usage: %v, want ErrBadRequest", err)
	}
}

// TestChargeBatch: a batch is charged as its deltas one at a time would be
// — subscription first, then PAYG, the refill that is due, one low-balance
// notice per crossing — and every delta exactly once, across batches and
// single charges, concurrently.
func TestChargeBatch(t *testing.T) {
	ctx := context.Background()
	var notices atomic.Int64
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Billing.OnLowBalance = func(context.Context, turnkit.LowBalance) { notices.Add(1) }
	})
	l, app := tk.Ledger(), tk.app.App.ID
	if err := l.SetPlan(ctx, app, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := l.TopUp(ctx, app, 5000, "p"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetLowBalanceThreshold(ctx, app, 3000); err != nil {
		t.Fatal(err)
	}
	batch := func(from, to uint64) []store.Usage {
		var us []store.Usage
		for seq := from; seq <= to; seq++ {
			us = append(us, store.Usage{SessionID: "s", Seq: seq, AppID: app, ToPeer: 100, ToClient: 50})
		}
		return us
	}
	if !charge(t, l, app, "s", 3, 150) {
		t.Fatal("single charge of seq 3 not applied")
	}
	// 1..20 with 3 already charged and 5 given twice.
	us := append(batch(1, 20), batch(5, 5)...)
	applied, err := l.ChargeBatch(ctx, us)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, a := range applied {
		if a {
			n++
		}
		if us[i].Seq == 3 && a {
			t.Errorf("seq 3, charged before, applied again")
		}
	}
	if n != 19 {
		t.Fatalf("%d of the batch applied, want 19 (20 less seq 3, and the repeat of 5)", n)
	}
	// Concurrent batches of the same deltas and more: each applies once.
	var wg sync.WaitGroup
	var more atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := l.ChargeBatch(ctx, batch(1, 30))
			if err != nil {
				t.Error(err)
				return
			}
			for _, x := range a {
				if x {
					more.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if more.Load() != 10 {
		t.Fatalf("concurrent batches applied %d deltas, want the 10 new ones", more.Load())
	}
	b, err := l.Balance(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	// 30 deltas of 150 bytes: 1000 from the subscription, 3500 from PAYG.
	if b.Subscription != 0 || b.PAYG != 5000-3500 {
		t.Fatalf("balance %+v, want subscription 0 and PAYG 1500", b)
	}
	if got := notices.Load(); got != 1 {
		t.Fatalf("%d low-balance notices, want 1 (one crossing of 3000)", got)
	}
	journalMatches(t, l, tk.Store(), app)
	if _, err := l.ChargeBatch(ctx, []store.Usage{{SessionID: "neg", Seq: 1, AppID: app, ToPeer: -1}}); !errors.Is(err, turnkit.ErrBadRequest) {
		t.Errorf("negative usage in a batch: %v, want ErrBadRequest", err)
	}
}

func TestLowBalanceOncePerCrossing(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var fired []int64
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Billing.OnLowBalance = func(_ context.Context, ev turnkit.LowBalance) {
			mu.Lock()
			fired = append(fired, ev.Balance.Total())
			mu.Unlock()
		}
	})
	l, app := tk.Ledger(), tk.app.App.ID
	if _, err := l.TopUp(ctx, app, 10*gb, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetLowBalanceThreshold(ctx, app, 5*gb); err != nil {
		t.Fatal(err)
	}
	charge(t, l, app, "s", 1, 4*gb)                           // 6 GB: above
	charge(t, l, app, "s", 2, 2*gb)                           // 4 GB: crosses
	charge(t, l, app, "s", 3, 1*gb)                           // 3 GB: still below, no second notice
	charge(t, l, app, "s", 4, 4*gb)                           // -1 GB: still below
	if _, err := l.TopUp(ctx, app, 10*gb, "p2"); err != nil { // 9 GB: re-arms
		t.Fatal(err)
	}
	charge(t, l, app, "s", 5, 5*gb) // 4 GB: crosses again
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(fired) != fmt.Sprint([]int64{4 * gb, 4 * gb}) {
		t.Fatalf("notices at totals %v, want two at 4 GB", fired)
	}
}

func TestMulDivSaturates(t *testing.T) {
	tk := newTestKit(t)
	ctx := context.Background()
	// A huge history rate must saturate, not wrap negative.
	st, app := tk.Store(), tk.app.App.ID
	if err := st.OpenSession(ctx, store.Session{ID: "big", AppID: app, Username: "u", RelayID: "r", StartedAt: tk.clock.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Ledger().Charge(ctx, store.Usage{SessionID: "big", Seq: 1, AppID: app, ToPeer: math.MaxInt64 / 4}); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSession(ctx, "big", tk.clock.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := tk.Ledger().Reserve(ctx, app, 24*time.Hour, false)
	if err != nil || got != math.MaxInt64 {
		t.Fatalf("reserve %d (%v), want saturation at MaxInt64", got, err)
	}
}
