package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/turnkit/turnkit/store"
)

// testBatch checks the UsageBatcher capability, for a store that has it.
func testBatch(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"AppliesEachOnce", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			mustOpenSession(t, s, newSession("s1", "a"))
			d1, d2, d3, d4 := delta("s1", 1, "a", 100), delta("s1", 2, "a", 20), delta("s1", 3, "a", 3), delta("s1", 4, "a", 4000)
			checkApplied(t, mustBatch(t, ub, []store.Usage{d1, d2, d1, d3}, bill), []bool{true, true, false, true})
			checkApplied(t, mustBatch(t, ub, []store.Usage{d2, d4, d4, d3}, bill), []bool{false, true, false, false})
			checkApplied(t, mustBatch(t, ub, []store.Usage{d1, d2, d3, d4}, bill), []bool{false, false, false, false})
			sess := mustSession(t, s, "s1")
			if peer, client := split(d1, d2, d3, d4); sess.ToPeer != peer || sess.ToClient != client {
				t.Errorf("session totals %d to the peer, %d to the client; want %d and %d", sess.ToPeer, sess.ToClient, peer, client)
			}
			if b := mustBalance(t, s, "a"); b.Total() != -total(d1, d2, d3, d4) {
				t.Errorf("balance total = %d, want %d", b.Total(), -total(d1, d2, d3, d4))
			}
			checkRefs(t, s, "a", []store.Usage{d1, d2, d3, d4})
			checkJournal(t, s, "a")
		}},
		{"SameAsOneAtATime", func(t *testing.T, s store.Store) {
			// The same deltas, in the same order, charged one at a time to
			// app "one" and in batches to app "many", from the same
			// balance: the subscription runs out in the middle, so the
			// order decides which delta splits across the buckets.
			ub := capability[store.UsageBatcher](t, s)
			var deltas [2][]store.Usage
			for i, app := range []string{"one", "many"} {
				seedSubscription(t, s, app, 1000)
				for seq := range 12 {
					sess := fmt.Sprintf("%s-s%d", app, seq%3)
					deltas[i] = append(deltas[i], delta(sess, uint64(seq/3+1), app, int64(30*(seq+1))))
				}
			}
			for _, u := range deltas[0] {
				if ok, err := s.ApplyUsage(t.Context(), u, usageFunc(u)); err != nil || !ok {
					t.Fatalf("ApplyUsage(%s#%d) = %v, %v", u.SessionID, u.Seq, ok, err)
				}
			}
			for batch := range slices.Chunk(deltas[1], 5) {
				checkApplied(t, mustBatch(t, ub, batch, bill), []bool{true, true, true, true, true}[:len(batch)])
			}
			one, many := mustBalance(t, s, "one"), mustBalance(t, s, "many")
			if one.Subscription != many.Subscription || one.PAYG != many.PAYG {
				t.Errorf("batched balance (%d, %d), want (%d, %d) as charged one at a time",
					many.Subscription, many.PAYG, one.Subscription, one.PAYG)
			}
			a, b := allEntries(t, s, "one"), allEntries(t, s, "many")
			if len(a) != len(b) {
				t.Fatalf("batched journal has %d entries, want %d", len(b), len(a))
			}
			for i := range a {
				if a[i].Subscription != b[i].Subscription || a[i].PAYG != b[i].PAYG || a[i].Kind != b[i].Kind {
					t.Errorf("batched entry %d (%s) = (%d, %d), want (%d, %d) as entry %s",
						i, b[i].Ref, b[i].Subscription, b[i].PAYG, a[i].Subscription, a[i].PAYG, a[i].Ref)
				}
			}
			checkJournal(t, s, "one")
			checkJournal(t, s, "many")
		}},
		{"MixedWithApplyUsage", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			d1, d2, d3 := delta("s", 1, "a", 10), delta("s", 2, "a", 20), delta("s", 3, "a", 40)
			mustApplyUsage(t, s, d1, true)
			checkApplied(t, mustBatch(t, ub, []store.Usage{d1, d2}, bill), []bool{false, true})
			mustApplyUsage(t, s, d2, false)
			mustApplyUsage(t, s, d3, true)
			checkApplied(t, mustBatch(t, ub, []store.Usage{d3, d2, d1}, bill), []bool{false, false, false})
			if b := mustBalance(t, s, "a"); b.Total() != -70 {
				t.Errorf("balance total = %d, want -70", b.Total())
			}
			checkRefs(t, s, "a", []store.Usage{d1, d2, d3})
		}},
		{"ManyAppsAndSessions", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			apps := []string{"a", "b", "c"}
			var us []store.Usage
			want := map[string]int64{}
			for seq := uint64(1); seq <= 10; seq++ {
				for i, app := range apps {
					for j := range 4 {
						u := delta(fmt.Sprintf("%s%d", app, j), seq, app, int64(1+i*7+j*100)*int64(seq))
						us = append(us, u)
						want[app] += total(u)
						want[u.SessionID] += total(u)
					}
				}
			}
			for _, app := range apps {
				for j := range 4 {
					if j != 3 { // one session of each app is not stored
						mustOpenSession(t, s, newSession(fmt.Sprintf("%s%d", app, j), app))
					}
				}
			}
			applied := mustBatch(t, ub, us, bill)
			if n := count(applied); n != len(us) {
				t.Errorf("%d of %d distinct deltas applied", n, len(us))
			}
			for _, app := range apps {
				if b := mustBalance(t, s, app); b.Total() != -want[app] {
					t.Errorf("app %s balance total = %d, want %d", app, b.Total(), -want[app])
				}
				checkJournal(t, s, app)
				for j := range 3 {
					id := fmt.Sprintf("%s%d", app, j)
					if sess := mustSession(t, s, id); sess.ToPeer+sess.ToClient != want[id] {
						t.Errorf("session %s totals %d, want %d", id, sess.ToPeer+sess.ToClient, want[id])
					}
				}
			}
		}},
		{"FailedFnAppliesNothing", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			mustOpenSession(t, s, newSession("s", "a"))
			d0, d1, d2, d3 := delta("s", 1, "a", 5), delta("s", 2, "a", 10), delta("s", 3, "a", 20), delta("s", 4, "a", 40)
			checkApplied(t, mustBatch(t, ub, []store.Usage{d0}, bill), []bool{true})
			before, entries := mustBalance(t, s, "a"), allEntries(t, s, "a")
			boom := errors.New("boom")
			failOn := func(seq uint64) store.UsageFunc {
				return func(b *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
					if u.Seq == seq {
						b.PAYG -= 1 << 40 // a change that must not be kept
						return nil, boom
					}
					return bill(b, u)
				}
			}
			for _, seq := range []uint64{2, 3, 4} {
				_, err := ub.ApplyUsageBatch(t.Context(), []store.Usage{d1, d2, d0, d3}, failOn(seq))
				if !errors.Is(err, boom) {
					t.Fatalf("ApplyUsageBatch failing on seq %d: error %v, want it to wrap fn's", seq, err)
				}
				checkUnchanged(t, s, "a", before, entries)
				if sess := mustSession(t, s, "s"); sess.ToPeer+sess.ToClient != total(d0) {
					t.Fatalf("session totals %d after a failed batch, want %d", sess.ToPeer+sess.ToClient, total(d0))
				}
			}
			// The deltas of the failed batches are still to apply.
			checkApplied(t, mustBatch(t, ub, []store.Usage{d1, d2, d0, d3}, bill), []bool{true, true, false, true})
			checkRefs(t, s, "a", []store.Usage{d0, d1, d2, d3})
		}},
		{"UnjournaledChangeRefused", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			d1, d2 := delta("s", 1, "a", 10), delta("s", 2, "a", 20)
			_, err := ub.ApplyUsageBatch(t.Context(), []store.Usage{d1, d2}, func(b *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
				es, err := bill(b, u)
				if u.Seq == 2 {
					b.PAYG-- // not in the entries
				}
				return es, err
			})
			if err == nil {
				t.Fatal("ApplyUsageBatch accepted a balance change its entries do not account for")
			}
			checkUnchanged(t, s, "a", store.Balance{AppID: "a"}, nil)
			checkApplied(t, mustBatch(t, ub, []store.Usage{d1, d2}, bill), []bool{true, true})
		}},
		{"StoreErrorAppliesNothing", func(t *testing.T, s store.Store) {
			// The third delta's entry takes a reference the journal holds
			// already: the store refuses it after writing the first two.
			ub := capability[store.UsageBatcher](t, s)
			if ok, err := s.Apply(t.Context(), "a", "usage:s:3", topUp("usage:s:3", 1000)); err != nil || !ok {
				t.Fatalf("Apply: %v, %v", ok, err)
			}
			before, entries := mustBalance(t, s, "a"), allEntries(t, s, "a")
			us := []store.Usage{delta("s", 1, "a", 10), delta("s", 2, "a", 20), delta("s", 3, "a", 30)}
			if _, err := ub.ApplyUsageBatch(t.Context(), us, bill); err == nil {
				t.Fatal("ApplyUsageBatch stored an entry whose reference the app's journal holds")
			}
			checkUnchanged(t, s, "a", before, entries)
			checkApplied(t, mustBatch(t, ub, us[:2], bill), []bool{true, true})
		}},
		{"Empty", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			for _, us := range [][]store.Usage{nil, {}} {
				applied, err := ub.ApplyUsageBatch(t.Context(), us, bill)
				if err != nil || len(applied) != 0 {
					t.Errorf("ApplyUsageBatch(%#v) = %v, %v; want nothing and no error", us, applied, err)
				}
			}
		}},
		{"CancelledContext", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			us := []store.Usage{delta("s", 1, "a", 10)}
			if _, err := ub.ApplyUsageBatch(ctx, us, bill); !errors.Is(err, context.Canceled) {
				t.Fatalf("ApplyUsageBatch with a cancelled context: error %v, want %v", err, context.Canceled)
			}
			checkUnchanged(t, s, "a", store.Balance{AppID: "a"}, nil)
			checkApplied(t, mustBatch(t, ub, us, bill), []bool{true})
		}},
		{"Concurrent", func(t *testing.T, s store.Store) {
			// Four goroutines submit every delta of two sessions, each in
			// its own order and batch size: each delta is applied once.
			ub := capability[store.UsageBatcher](t, s)
			var all []store.Usage
			var want int64
			for seq := uint64(1); seq <= 30; seq++ {
				for _, sess := range []string{"x", "y"} {
					u := delta(sess, seq, "a", int64(seq))
					all = append(all, u)
					want += total(u)
				}
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				applied int
			)
			for w := range 4 {
				wg.Go(func() {
					order := slices.Clone(all)
					if w%2 == 1 {
						slices.Reverse(order)
					}
					for batch := range slices.Chunk(order, 3+w*4) {
						got, err := ub.ApplyUsageBatch(t.Context(), batch, bill)
						if err != nil {
							t.Errorf("worker %d: ApplyUsageBatch: %v", w, err)
							return
						}
						mu.Lock()
						applied += count(got)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if applied != len(all) {
				t.Errorf("%d deltas reported applied, want each of %d once", applied, len(all))
			}
			if b := mustBalance(t, s, "a"); b.Total() != -want {
				t.Errorf("balance total = %d, want %d", b.Total(), -want)
			}
			checkJournal(t, s, "a")
		}},
		{"Large", func(t *testing.T, s store.Store) {
			ub := capability[store.UsageBatcher](t, s)
			mustOpenSession(t, s, newSession("big", "a"))
			var us []store.Usage
			for seq := uint64(1); seq <= 2000; seq++ {
				us = append(us, delta("big", seq, "a", 3))
			}
			if n := count(mustBatch(t, ub, us, bill)); n != len(us) {
				t.Errorf("%d of %d deltas applied", n, len(us))
			}
			if sess := mustSession(t, s, "big"); sess.ToPeer+sess.ToClient != 6000 {
				t.Errorf("session totals %d, want 6000", sess.ToPeer+sess.ToClient)
			}
			checkJournal(t, s, "a")
		}},
	})
}

// delta returns a usage delta of n bytes, two thirds to the peer when n
// divides by three.
func delta(session string, seq uint64, app string, n int64) store.Usage {
	return store.Usage{SessionID: session, Seq: seq, AppID: app, ToPeer: n - n/3, ToClient: n / 3, At: at(int(seq))}
}

// split returns the bytes of the deltas to the peer and to the client.
func split(us ...store.Usage) (peer, client int64) {
	for _, u := range us {
		peer += u.ToPeer
		client += u.ToClient
	}
	return peer, client
}

// total returns the bytes of the deltas.
func total(us ...store.Usage) int64 {
	var n int64
	for _, u := range us {
		n += u.ToPeer + u.ToClient
	}
	return n
}

func count(applied []bool) int {
	n := 0
	for _, ok := range applied {
		if ok {
			n++
		}
	}
	return n
}

// usageRef is the journal reference of a delta's charge.
func usageRef(u store.Usage) string { return fmt.Sprintf("usage:%s:%d", u.SessionID, u.Seq) }

// bill charges a delta as the ledger does: from the subscription while it
// lasts, the rest from PAYG, with one entry.
func bill(b *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
	n := total(u)
	sub := min(n, max(b.Subscription, 0))
	b.Subscription -= sub
	b.PAYG -= n - sub
	return []store.LedgerEntry{{At: u.At, Kind: "usage", Ref: usageRef(u), Subscription: -sub, PAYG: -(n - sub)}}, nil
}

// usageFunc is bill for ApplyUsage.
func usageFunc(u store.Usage) store.BalanceFunc {
	return func(b *store.Balance) ([]store.LedgerEntry, error) { return bill(b, u) }
}

// seedSubscription gives the app a subscription of n bytes.
func seedSubscription(t *testing.T, s store.Store, app string, n int64) {
	t.Helper()
	ok, err := s.Apply(t.Context(), app, "plan", func(b *store.Balance) ([]store.LedgerEntry, error) {
		b.Subscription, b.Allowance = n, n
		return []store.LedgerEntry{{At: at(0), Kind: "plan", Ref: "plan", Subscription: n}}, nil
	})
	if err != nil || !ok {
		t.Fatalf("Apply(plan of %s): %v, %v", app, ok, err)
	}
}

func mustBatch(t *testing.T, ub store.UsageBatcher, us []store.Usage, fn store.UsageFunc) []bool {
	t.Helper()
	applied, err := ub.ApplyUsageBatch(t.Context(), us, fn)
	if err != nil {
		t.Fatalf("ApplyUsageBatch of %d deltas: %v", len(us), err)
	}
	if len(applied) != len(us) {
		t.Fatalf("ApplyUsageBatch of %d deltas returned %d results", len(us), len(applied))
	}
	return applied
}

func mustApplyUsage(t *testing.T, s store.Store, u store.Usage, want bool) {
	t.Helper()
	ok, err := s.ApplyUsage(t.Context(), u, usageFunc(u))
	if err != nil || ok != want {
		t.Fatalf("ApplyUsage(%s#%d) = %v, %v; want %v", u.SessionID, u.Seq, ok, err, want)
	}
}

func checkApplied(t *testing.T, got, want []bool) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("applied = %v, want %v", got, want)
	}
}

// allEntries returns the app's whole journal, paging through it.
func allEntries(t *testing.T, s store.Store, app string) []store.LedgerEntry {
	t.Helper()
	var all []store.LedgerEntry
	after := int64(0)
	for {
		page, err := s.Entries(t.Context(), app, after, 500)
		if err != nil {
			t.Fatalf("Entries(%s, %d): %v", app, after, err)
		}
		if len(page) == 0 {
			return all
		}
		for _, e := range page {
			if e.ID <= after {
				t.Fatalf("Entries(%s) returned ID %d after %d: IDs must increase", app, e.ID, after)
			}
			after = e.ID
		}
		all = append(all, page...)
	}
}

// checkJournal fails unless the sums of the app's journal are its
// balance's buckets.
func checkJournal(t *testing.T, s store.Store, app string) {
	t.Helper()
	var sub, payg int64
	for _, e := range allEntries(t, s, app) {
		sub += e.Subscription
		payg += e.PAYG
	}
	if b := mustBalance(t, s, app); b.Subscription != sub || b.PAYG != payg {
		t.Errorf("app %s balance (%d, %d), but its journal sums to (%d, %d)", app, b.Subscription, b.PAYG, sub, payg)
	}
}

// checkRefs fails unless the app's usage entries are those of us, in that
// order.
func checkRefs(t *testing.T, s store.Store, app string, us []store.Usage) {
	t.Helper()
	var got, want []string
	for _, e := range allEntries(t, s, app) {
		if e.Kind == "usage" {
			got = append(got, e.Ref)
		}
	}
	for _, u := range us {
		want = append(want, usageRef(u))
	}
	if !slices.Equal(got, want) {
		t.Errorf("usage entries %v, want %v", got, want)
	}
}

// checkUnchanged fails unless the app's balance and journal are as given.
func checkUnchanged(t *testing.T, s store.Store, app string, balance store.Balance, entries []store.LedgerEntry) {
	t.Helper()
	b := mustBalance(t, s, app)
	if !b.PeriodStart.Equal(balance.PeriodStart) {
		t.Errorf("balance PeriodStart %v, want it unchanged: %v", b.PeriodStart, balance.PeriodStart)
	}
	b.PeriodStart = balance.PeriodStart
	if b != balance {
		t.Errorf("balance %+v, want it unchanged: %+v", b, balance)
	}
	got := allEntries(t, s, app)
	if len(got) != len(entries) {
		t.Fatalf("journal has %d entries, want it unchanged with %d", len(got), len(entries))
	}
	for i := range got {
		g, w := got[i], entries[i]
		if !g.At.Equal(w.At) {
			t.Errorf("entry %d At %v, want it unchanged: %v", i, g.At, w.At)
		}
		g.At = w.At
		if g != w {
			t.Errorf("entry %d = %+v, want it unchanged: %+v", i, g, w)
		}
	}
}
