package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/turnkit/turnkit/store"
)

// topUp is a BalanceFunc that adds n bytes to PAYG with one entry.
func topUp(ref string, n int64) store.BalanceFunc {
	return func(b *store.Balance) ([]store.LedgerEntry, error) {
		b.PAYG += n
		return []store.LedgerEntry{{At: at(1), Kind: "topup", Ref: ref, PAYG: n}}, nil
	}
}

// spend is a BalanceFunc that takes n bytes from PAYG with one entry.
func spend(ref string, n int64) store.BalanceFunc {
	return func(b *store.Balance) ([]store.LedgerEntry, error) {
		b.PAYG -= n
		return []store.LedgerEntry{{At: at(2), Kind: "usage", Ref: ref, PAYG: -n}}, nil
	}
}

func mustBalance(t *testing.T, s store.Store, appID string) store.Balance {
	t.Helper()
	b, err := s.Balance(t.Context(), appID)
	if err != nil {
		t.Fatalf("Balance(%q): %v", appID, err)
	}
	return b
}

func testLedger(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"zero balance for an app without one", func(t *testing.T, s store.Store) {
			b := mustBalance(t, s, "none")
			if b != (store.Balance{AppID: "none"}) {
				t.Fatalf("Balance = %+v, want the zero Balance with AppID", b)
			}
			es, err := s.Entries(t.Context(), "none", 0, 10)
			if err != nil || es == nil || len(es) != 0 {
				t.Fatalf("Entries = %v, %v; want an empty slice", es, err)
			}
		}},
		{"apply stores balance and entries", func(t *testing.T, s store.Store) {
			ok, err := s.Apply(t.Context(), "a", "t1", func(b *store.Balance) ([]store.LedgerEntry, error) {
				b.Subscription, b.PAYG, b.Allowance = 5, 7, 5
				b.PeriodStart, b.LowThreshold, b.LowNotified = at(0), 3, true
				return []store.LedgerEntry{{At: at(0), Kind: "plan", Ref: "t1", Subscription: 5, PAYG: 7}}, nil
			})
			if err != nil || !ok {
				t.Fatalf("Apply: %v, %v", ok, err)
			}
			b := mustBalance(t, s, "a")
			if b.Subscription != 5 || b.PAYG != 7 || b.Allowance != 5 || b.LowThreshold != 3 || !b.LowNotified || b.AppID != "a" {
				t.Fatalf("Balance = %+v", b)
			}
			checkTime(t, "PeriodStart", b.PeriodStart, at(0))
			es, _ := s.Entries(t.Context(), "a", 0, 10)
			if len(es) != 1 || es[0].Ref != "t1" || es[0].Kind != "plan" || es[0].AppID != "a" ||
				es[0].Subscription != 5 || es[0].PAYG != 7 || es[0].ID <= 0 {
				t.Fatalf("Entries = %+v", es)
			}
			checkTime(t, "entry At", es[0].At, at(0))
		}},
		{"apply once per ref", func(t *testing.T, s store.Store) {
			calls := 0
			fn := func(b *store.Balance) ([]store.LedgerEntry, error) {
				calls++
				return topUp("r", 10)(b)
			}
			for i, want := range []bool{true, false, false} {
				ok, err := s.Apply(t.Context(), "a", "r", fn)
				if err != nil || ok != want {
					t.Fatalf("Apply #%d: %v, %v; want %v", i, ok, err, want)
				}
			}
			if b := mustBalance(t, s, "a"); b.PAYG != 10 {
				t.Fatalf("PAYG = %d, want 10", b.PAYG)
			}
			// The same ref for another app is another change.
			if ok, err := s.Apply(t.Context(), "b", "r", topUp("r", 1)); err != nil || !ok {
				t.Fatalf("Apply for another app: %v, %v", ok, err)
			}
		}},
		{"failed fn changes nothing", func(t *testing.T, s store.Store) {
			boom := errors.New("boom")
			_, err := s.Apply(t.Context(), "a", "x", func(b *store.Balance) ([]store.LedgerEntry, error) {
				b.PAYG = 99
				return nil, boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Apply error %v, want it to wrap fn's", err)
			}
			if b := mustBalance(t, s, "a"); b.PAYG != 0 {
				t.Fatalf("PAYG = %d after a failed Apply", b.PAYG)
			}
			if ok, err := s.Apply(t.Context(), "a", "x", topUp("x", 1)); err != nil || !ok {
				t.Fatalf("the ref of a failed Apply must stay free: %v, %v", ok, err)
			}
		}},
		{"unjournaled change is refused", func(t *testing.T, s store.Store) {
			_, err := s.Apply(t.Context(), "a", "y", func(b *store.Balance) ([]store.LedgerEntry, error) {
				b.PAYG += 5
				return []store.LedgerEntry{{Kind: "topup", Ref: "y", PAYG: 4}}, nil
			})
			if err == nil {
				t.Fatal("Apply accepted a balance change its entries do not account for")
			}
			if b := mustBalance(t, s, "a"); b.PAYG != 0 {
				t.Fatalf("PAYG = %d after a refused Apply", b.PAYG)
			}
		}},
		{"negative PAYG", func(t *testing.T, s store.Store) {
			if _, err := s.Apply(t.Context(), "a", "s", spend("s", 12)); err != nil {
				t.Fatal(err)
			}
			if b := mustBalance(t, s, "a"); b.PAYG != -12 {
				t.Fatalf("PAYG = %d, want -12", b.PAYG)
			}
		}},
		{"entries paging", func(t *testing.T, s store.Store) {
			for i := range 5 {
				ref := fmt.Sprintf("p%d", i)
				if _, err := s.Apply(t.Context(), "a", ref, topUp(ref, int64(i))); err != nil {
					t.Fatal(err)
				}
			}
			first, _ := s.Entries(t.Context(), "a", 0, 2)
			rest, _ := s.Entries(t.Context(), "a", first[1].ID, 10)
			if len(first) != 2 || len(rest) != 3 || first[0].Ref != "p0" || rest[0].Ref != "p2" || rest[2].Ref != "p4" {
				t.Fatalf("pages %+v then %+v", first, rest)
			}
		}},
		{"usage applies once and adds to the session", func(t *testing.T, s store.Store) {
			mustOpenSession(t, s, newSession("s1", "a"))
			u := store.Usage{SessionID: "s1", Seq: 1, AppID: "a", ToPeer: 100, ToClient: 50, At: at(3)}
			for i, want := range []bool{true, false} {
				ok, err := s.ApplyUsage(t.Context(), u, spend("usage:s1:1", 150))
				if err != nil || ok != want {
					t.Fatalf("ApplyUsage #%d: %v, %v; want %v", i, ok, err, want)
				}
			}
			u.Seq = 2
			if ok, err := s.ApplyUsage(t.Context(), u, spend("usage:s1:2", 150)); err != nil || !ok {
				t.Fatalf("seq 2: %v, %v", ok, err)
			}
			sess, err := s.Session(t.Context(), "s1")
			if err != nil || sess.ToPeer != 200 || sess.ToClient != 100 {
				t.Fatalf("session %+v (%v), want 200 and 100 bytes", sess, err)
			}
			if b := mustBalance(t, s, "a"); b.PAYG != -300 {
				t.Fatalf("PAYG = %d, want -300", b.PAYG)
			}
		}},
		{"usage without a stored session still charges", func(t *testing.T, s store.Store) {
			u := store.Usage{SessionID: "gone", Seq: 1, AppID: "a", ToPeer: 5, At: at(3)}
			if ok, err := s.ApplyUsage(t.Context(), u, spend("usage:gone:1", 5)); err != nil || !ok {
				t.Fatalf("ApplyUsage: %v, %v", ok, err)
			}
		}},
		{"concurrent usage applies each delta once", func(t *testing.T, s store.Store) {
			mustOpenSession(t, s, newSession("c", "a"))
			var wg sync.WaitGroup
			var mu sync.Mutex
			applied := 0
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for seq := uint64(1); seq <= 20; seq++ {
						u := store.Usage{SessionID: "c", Seq: seq, AppID: "a", ToClient: 3, At: at(4)}
						ok, err := s.ApplyUsage(t.Context(), u, spend(fmt.Sprintf("usage:c:%d", seq), 3))
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							mu.Lock()
							applied++
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			if applied != 20 {
				t.Fatalf("%d deltas applied, want 20", applied)
			}
			if b := mustBalance(t, s, "a"); b.PAYG != -60 {
				t.Fatalf("PAYG = %d, want -60", b.PAYG)
			}
		}},
		{"cancelled context", func(t *testing.T, s store.Store) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := s.Apply(ctx, "a", "z", topUp("z", 1)); err == nil {
				t.Fatal("Apply with a cancelled context succeeded")
			}
			if b := mustBalance(t, s, "a"); b.PAYG != 0 {
				t.Fatalf("PAYG = %d after a cancelled Apply", b.PAYG)
			}
		}},
	})
}

func testSessionStats(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"no history", func(t *testing.T, s store.Store) {
			b, sec, err := s.UsageHistory(t.Context(), "a")
			if err != nil || b != 0 || sec != 0 {
				t.Fatalf("UsageHistory = %d, %d, %v; want zeros", b, sec, err)
			}
		}},
		{"history counts ended sessions only", func(t *testing.T, s store.Store) {
			ended := newSession("e", "a")
			ended.StartedAt, ended.ToPeer, ended.ToClient = at(0), 600, 400
			mustOpenSession(t, s, ended)
			if err := s.CloseSession(t.Context(), "e", at(100)); err != nil {
				t.Fatal(err)
			}
			active := newSession("act", "a")
			active.ToPeer = 5000
			mustOpenSession(t, s, active)
			other := newSession("o", "b")
			other.ToPeer = 7
			mustOpenSession(t, s, other)
			if err := s.CloseSession(t.Context(), "o", at(5)); err != nil {
				t.Fatal(err)
			}
			b, sec, err := s.UsageHistory(t.Context(), "a")
			if err != nil || b != 1000 || sec != 100 {
				t.Fatalf("UsageHistory = %d bytes, %d s, %v; want 1000 and 100", b, sec, err)
			}
		}},
		{"close sessions of a dead relay instance", func(t *testing.T, s store.Store) {
			for _, x := range []struct{ id, relay, inst string }{
				{"old1", "r1", "i1"}, {"old2", "r1", "i1"}, {"cur", "r1", "i2"}, {"elsewhere", "r2", "i1"},
			} {
				sess := newSession(x.id, "a")
				sess.RelayID, sess.Instance = x.relay, x.inst
				mustOpenSession(t, s, sess)
			}
			n, err := s.CloseRelaySessions(t.Context(), "r1", "i2", at(9))
			if err != nil || n != 2 {
				t.Fatalf("CloseRelaySessions = %d, %v; want 2", n, err)
			}
			for id, wantActive := range map[string]bool{"old1": false, "old2": false, "cur": true, "elsewhere": true} {
				sess, err := s.Session(t.Context(), id)
				if err != nil || sess.Active() != wantActive {
					t.Fatalf("session %s active=%v (%v), want %v", id, sess.Active(), err, wantActive)
				}
			}
			if n, _ := s.CloseRelaySessions(t.Context(), "r1", "i2", at(10)); n != 0 {
				t.Fatalf("second CloseRelaySessions ended %d", n)
			}
			if n, _ := s.CountActiveSessions(t.Context(), "a"); n != 2 {
				t.Fatalf("%d active sessions, want 2", n)
			}
		}},
		{"session fields round-trip", func(t *testing.T, s store.Store) {
			sess := newSession("f", "a")
			sess.Instance, sess.ToPeer, sess.ToClient = "inst", 11, 22
			mustOpenSession(t, s, sess)
			got, err := s.Session(t.Context(), "f")
			if err != nil || got.Instance != "inst" || got.ToPeer != 11 || got.ToClient != 22 {
				t.Fatalf("Session = %+v, %v", got, err)
			}
		}},
	})
}
