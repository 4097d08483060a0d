package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/turnkit/turnkit/store"
)

// Shared is one database that several store handles open, as the issuers
// and relays of a fleet do. RunShared gets one per case.
type Shared struct {
	// Open returns a new handle on the database. The suite closes it when
	// the case ends, failing the case if Close returns an error.
	Open func(t *testing.T) store.Store
	// Interrupt breaks the connections that the subscriptions of every
	// handle listen on, as a network failure or a restart of the database
	// server would; the subscriptions must resume on their own. Nil skips
	// the cases that need it.
	Interrupt func(t *testing.T)
}

// Size of the FleetWriters case: writers handles, each charging every
// delta of fleetSessions sessions of fleetDeltas deltas.
const (
	fleetWriters  = 4
	fleetSessions = 4
	fleetDeltas   = 40
)

// RunShared runs the cases that need several handles on one database:
// changes published through one handle reach the subscribers of another
// (for a store that implements store.Notifier), also after Interrupt, and
// four handles charging one app at once apply every usage delta exactly
// once. newShared is called once per case, for a fresh, empty database.
func RunShared(t *testing.T, newShared func(t *testing.T) Shared) {
	open := func(t *testing.T) (Shared, func(t *testing.T) store.Store) {
		t.Helper()
		sh := newShared(t)
		if sh.Open == nil {
			t.Fatal("newShared returned a Shared without Open")
		}
		return sh, func(t *testing.T) store.Store {
			t.Helper()
			s := sh.Open(t)
			if s == nil {
				t.Fatal("Shared.Open returned a nil store")
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			return s
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T, sh Shared, open opener)
	}{
		{"NotifyAcrossHandles", testNotifyAcross},
		{"NotifyAfterInterrupt", testNotifyInterrupt},
		{"FleetWriters", testFleetWriters},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh, open := open(t)
			c.run(t, sh, open)
		})
	}
}

// testNotifyAcross: a change published on one handle reaches the
// subscribers of the others, and of the publisher.
func testNotifyAcross(t *testing.T, _ Shared, open opener) {
	a, b := capability[store.Notifier](t, open(t)), capability[store.Notifier](t, open(t))
	onA, onB := subscribe(t, a), subscribe(t, b)
	onB.ready(t, a)
	onA.ready(t, a)
	checkDelivery(t, a, onB, onA)
	want := store.Change{Kind: store.ChangeRelays}
	if err := b.Publish(t.Context(), want); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	onA.expect(t, want)
	onB.expect(t, want)
}

// testNotifyInterrupt: after Interrupt, a subscriber gets ChangeAll and
// then the changes published after it again.
func testNotifyInterrupt(t *testing.T, sh Shared, open opener) {
	if sh.Interrupt == nil {
		t.Skip("Shared.Interrupt is nil")
	}
	a, b := capability[store.Notifier](t, open(t)), capability[store.Notifier](t, open(t))
	sub := subscribe(t, b)
	sub.ready(t, a)
	for round := range 2 {
		sh.Interrupt(t)
		// Markers published while the subscription is down are lost; the
		// ChangeAll must come before the first one that arrives.
		gotAll := sub.await(t, a, func(c store.Change) bool { return c == store.Change{Kind: store.ChangeAll} })
		if !gotAll {
			t.Fatalf("interruption %d: changes arrive again, but no ChangeAll came first", round+1)
		}
		checkDelivery(t, a, sub)
	}
}

// testFleetWriters: fleetWriters handles charge one app at once, each of
// them every delta of every session, in its own order, through
// ApplyUsageBatch when the store has it (in batches of different sizes)
// or ApplyUsage, half of the writers using each. Each delta is applied
// once: the balance is the sum of the deltas exactly, the sessions hold
// their own sums, and replaying every delta changes nothing.
func testFleetWriters(t *testing.T, _ Shared, open opener) {
	handles := make([]store.Store, fleetWriters)
	for i := range handles {
		handles[i] = open(t)
	}
	seedSubscription(t, handles[0], "app", 10_000)
	var all []store.Usage
	want := map[string]int64{}
	for seq := uint64(1); seq <= fleetDeltas; seq++ {
		for j := range fleetSessions {
			u := delta(fmt.Sprintf("relay%d-s%d", j, seq%2), seq*2+uint64(j), "app", int64(100*j+int(seq)))
			all = append(all, u)
			want[u.SessionID] += total(u)
			want["app"] += total(u)
		}
	}
	for j := range fleetSessions {
		for k := range 2 {
			mustOpenSession(t, handles[j%fleetWriters], newSession(fmt.Sprintf("relay%d-s%d", j, k), "app"))
		}
	}
	charge := func(round int) int {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			applied int
		)
		start := make(chan struct{})
		for w, s := range handles {
			wg.Go(func() {
				<-start // all writers at once
				order := slices.Clone(all)
				r := (w * len(order)) / fleetWriters
				order = append(order[r:], order[:r]...)
				if (w+round)%2 == 1 {
					slices.Reverse(order)
				}
				n, err := chargeAll(t, s, order, w%2 == 0, 5+w*7)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
				mu.Lock()
				applied += n
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		return applied
	}
	if n := charge(0); n != len(all) {
		t.Errorf("%d deltas reported applied, want each of %d exactly once", n, len(all))
	}
	check := func(when string) {
		t.Helper()
		b := mustBalance(t, handles[0], "app")
		if b.Total() != 10_000-want["app"] {
			t.Errorf("%s: balance total %d, want %d", when, b.Total(), 10_000-want["app"])
		}
		if b.Subscription != 0 {
			t.Errorf("%s: subscription %d left, want it used up first", when, b.Subscription)
		}
		for j := range fleetSessions {
			for k := range 2 {
				id := fmt.Sprintf("relay%d-s%d", j, k)
				if sess := mustSession(t, handles[3], id); sess.ToPeer+sess.ToClient != want[id] {
					t.Errorf("%s: session %s totals %d, want %d", when, id, sess.ToPeer+sess.ToClient, want[id])
				}
			}
		}
		checkJournal(t, handles[1], "app")
		if es := allEntries(t, handles[2], "app"); len(es) != len(all)+1 {
			t.Errorf("%s: journal has %d entries, want %d (one per delta and the plan)", when, len(es), len(all)+1)
		}
	}
	check("after charging")
	if n := charge(1); n != 0 {
		t.Errorf("replaying every delta applied %d again, want none", n)
	}
	check("after the replay")
}

// chargeAll charges the deltas through s, in batches of size when batch is
// set and s is a UsageBatcher, one at a time otherwise, and returns how
// many it applied.
func chargeAll(t *testing.T, s store.Store, us []store.Usage, batch bool, size int) (int, error) {
	applied := 0
	if ub, ok := s.(store.UsageBatcher); ok && batch {
		for b := range slices.Chunk(us, size) {
			got, err := ub.ApplyUsageBatch(t.Context(), b, bill)
			if err != nil {
				return applied, fmt.Errorf("ApplyUsageBatch: %w", err)
			}
			applied += count(got)
		}
		return applied, nil
	}
	for _, u := range us {
		ok, err := s.ApplyUsage(t.Context(), u, usageFunc(u))
		if err != nil {
			return applied, fmt.Errorf("ApplyUsage(%s#%d): %w", u.SessionID, u.Seq, err)
		}
		if ok {
			applied++
		}
	}
	return applied, nil
}
