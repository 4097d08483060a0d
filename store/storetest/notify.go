package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// Bounds of the Notifier cases. Delivery is best effort and starts at a
// moment Subscribe does not report, so the cases publish a marker
// repeatedly until it arrives; after that, changes must arrive within
// deliveryTimeout.
const (
	deliveryTimeout = 10 * time.Second
	markerEvery     = 25 * time.Millisecond
	markerPrefix    = "marker-"
)

// testNotify checks the Notifier capability on one store handle, for a
// store that has it. RunShared checks delivery between handles.
func testNotify(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"ReachesOwnSubscriber", func(t *testing.T, s store.Store) {
			n := capability[store.Notifier](t, s)
			sub := subscribe(t, n)
			sub.ready(t, n)
			checkDelivery(t, n, sub)
		}},
		{"TwoSubscribers", func(t *testing.T, s store.Store) {
			n := capability[store.Notifier](t, s)
			a, b := subscribe(t, n), subscribe(t, n)
			a.ready(t, n)
			b.ready(t, n)
			want := store.Change{Kind: store.ChangeApp, ID: "app1"}
			if err := n.Publish(t.Context(), want); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			a.expect(t, want)
			b.expect(t, want)
		}},
		{"CancelEndsSubscribe", func(t *testing.T, s store.Store) {
			n := capability[store.Notifier](t, s)
			sub := subscribe(t, n)
			sub.ready(t, n)
			sub.cancel()
			if err := sub.wait(t); !errors.Is(err, context.Canceled) {
				t.Errorf("Subscribe after its context was cancelled = %v, want %v", err, context.Canceled)
			}
		}},
		{"DoneContext", func(t *testing.T, s store.Store) {
			n := capability[store.Notifier](t, s)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			done := make(chan error, 1)
			go func() { done <- n.Subscribe(ctx, func(store.Change) {}) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Subscribe with a cancelled context = %v, want %v", err, context.Canceled)
				}
			case <-time.After(deliveryTimeout):
				t.Fatalf("Subscribe with a cancelled context did not return within %v", deliveryTimeout)
			}
		}},
		{"CloseEndsSubscribe", func(t *testing.T, s store.Store) {
			// The suite closes the store again when the case ends: a second
			// Close must return nil.
			n := capability[store.Notifier](t, s)
			sub := subscribe(t, n)
			sub.ready(t, n)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := sub.wait(t); err != nil {
				t.Errorf("Subscribe after Close = %v, want nil", err)
			}
			late := subscribe(t, n)
			if err := late.wait(t); err != nil {
				t.Errorf("Subscribe on a closed store = %v, want nil", err)
			}
		}},
	})
}

// checkDelivery publishes one change of each kind through pub, IDs that a
// payload encoding could mangle included, and fails unless each of subs
// gets each, equal and in order.
func checkDelivery(t *testing.T, pub store.Notifier, subs ...*subscriber) {
	t.Helper()
	changes := []store.Change{
		{Kind: store.ChangeKey, ID: "key1"},
		{Kind: store.ChangeApp, ID: `app "quoted" \ back:slash_under`},
		{Kind: store.ChangeSecrets},
		{Kind: store.ChangeStaticCredential, ID: "1700000000:app1_Zm9v+/=="},
		{Kind: store.ChangeRelays},
		{Kind: store.ChangeApp, ID: "ünïcödé ✓"},
		{Kind: store.ChangeKey, ID: strings.Repeat("k", 200)},
		{Kind: store.ChangeAll},
	}
	for _, c := range changes {
		if err := pub.Publish(t.Context(), c); err != nil {
			t.Fatalf("Publish(%+v): %v", c, err)
		}
	}
	for _, sub := range subs {
		for _, c := range changes {
			sub.expect(t, c)
		}
	}
}

// subscriber is a running Subscribe call whose changes come out of a
// channel.
type subscriber struct {
	changes  chan store.Change
	done     chan error
	cancel   context.CancelFunc
	overflow atomic.Bool // a change did not fit in changes
	markers  atomic.Int64
}

// subscribe starts n.Subscribe in a goroutine. The subscription is
// cancelled, and waited for, when the test ends.
func subscribe(t *testing.T, n store.Notifier) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscriber{changes: make(chan store.Change, 1024), done: make(chan error, 1), cancel: cancel}
	go func() {
		sub.done <- n.Subscribe(ctx, func(c store.Change) {
			select {
			case sub.changes <- c:
			default:
				sub.overflow.Store(true)
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-sub.done:
		case <-time.After(deliveryTimeout):
			t.Errorf("Subscribe did not return within %v of its context's end", deliveryTimeout)
		}
		if sub.overflow.Load() {
			t.Error("more than 1024 changes were delivered and not read")
		}
	})
	return sub
}

// wait returns what Subscribe returned, failing the test if it does not
// return within deliveryTimeout. Call it once.
func (sub *subscriber) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-sub.done:
		sub.done <- err // for the cleanup
		return err
	case <-time.After(deliveryTimeout):
		t.Fatalf("Subscribe did not return within %v", deliveryTimeout)
		return nil
	}
}

// ready publishes markers through pub, one every markerEvery, until one
// reaches sub: then sub listens. Markers are skipped by expect.
func (sub *subscriber) ready(t *testing.T, pub store.Notifier) {
	t.Helper()
	sub.await(t, pub, func(c store.Change) bool { return false })
}

// await publishes markers through pub until one reaches sub, and reports
// whether, before that, sub got a change for which seen returns true.
// Changes other than markers that seen rejects fail the test.
func (sub *subscriber) await(t *testing.T, pub store.Notifier, seen func(store.Change) bool) bool {
	t.Helper()
	tick := time.NewTicker(markerEvery)
	defer tick.Stop()
	deadline := time.NewTimer(deliveryTimeout)
	defer deadline.Stop()
	var sent []string
	found := false
	for {
		id := fmt.Sprintf("%s%d", markerPrefix, sub.markers.Add(1))
		if err := pub.Publish(t.Context(), store.Change{Kind: store.ChangeKey, ID: id}); err != nil {
			t.Fatalf("Publish(marker): %v", err)
		}
		sent = append(sent, id)
	wait:
		for {
			select {
			case c := <-sub.changes:
				switch {
				case isMarker(c) && c.ID == sent[len(sent)-1]:
					return found
				case isMarker(c):
				case seen(c):
					found = true
				default:
					t.Fatalf("got %+v while waiting for the subscription to deliver", c)
				}
			case <-tick.C:
				break wait
			case <-deadline.C:
				t.Fatalf("none of %d changes published reached the subscriber within %v", len(sent), deliveryTimeout)
			case err := <-sub.done:
				sub.done <- err // for the cleanup
				t.Fatalf("Subscribe returned %v while waiting for a change", err)
			}
		}
	}
}

// expect fails unless the next change sub gets, markers skipped, is want,
// within deliveryTimeout.
func (sub *subscriber) expect(t *testing.T, want store.Change) {
	t.Helper()
	deadline := time.NewTimer(deliveryTimeout)
	defer deadline.Stop()
	for {
		select {
		case c := <-sub.changes:
			if isMarker(c) {
				continue
			}
			if c != want {
				t.Fatalf("got change %+v, want %+v", c, want)
			}
			return
		case <-deadline.C:
			t.Fatalf("change %+v not delivered within %v", want, deliveryTimeout)
		case err := <-sub.done:
			sub.done <- err // for the cleanup
			t.Fatalf("Subscribe returned %v while waiting for %+v", err, want)
		}
	}
}

func isMarker(c store.Change) bool {
	return c.Kind == store.ChangeKey && strings.HasPrefix(c.ID, markerPrefix)
}
