package turnkit

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// TestEventQueueDropsWhenFull: with the handler stuck, push never blocks:
// the queue holds its size, the rest is dropped and counted, and close
// delivers what was queued and drops what comes after.
func TestEventQueueDropsWhenFull(t *testing.T) {
	var stats kitStats
	entered, release := make(chan EventKind, 16), make(chan struct{})
	var got []EventKind
	q := newEventQueue(func(_ context.Context, ev Event) {
		entered <- ev.Kind
		<-release
		got = append(got, ev.Kind)
	}, 2, &stats, slog.New(slog.DiscardHandler))
	q.push(Event{Kind: "e0"})
	if k := <-entered; k != "e0" {
		t.Fatalf("first delivery %s", k)
	}
	for _, k := range []EventKind{"e1", "e2", "e3", "e4", "e5"} {
		done := make(chan struct{})
		go func() { q.push(Event{Kind: k}); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("push of %s blocked", k)
		}
	}
	if n := stats.dropped.Load(); n != 3 {
		t.Fatalf("dropped %d, want 3 (the queue holds 2 while the handler is busy)", n)
	}
	go func() {
		for range entered {
			release <- struct{}{}
		}
	}()
	release <- struct{}{}
	q.close()
	close(entered)
	q.push(Event{Kind: "late"})
	if len(got) != 3 || got[0] != "e0" || got[1] != "e1" || got[2] != "e2" {
		t.Errorf("delivered %v, want e0 e1 e2 in order", got)
	}
	if d, n := stats.delivered.Load(), stats.dropped.Load(); d != 3 || n != 4 {
		t.Errorf("delivered %d, dropped %d; want 3 and 4 (the push after close)", d, n)
	}
	q.close() // again: nothing
}

// TestEventQueuePanic: a handler that panics is logged and the next
// event is still delivered.
func TestEventQueuePanic(t *testing.T) {
	var stats kitStats
	got := make(chan EventKind, 2)
	q := newEventQueue(func(_ context.Context, ev Event) {
		if ev.Kind == "bad" {
			panic("handler bug")
		}
		got <- ev.Kind
	}, 4, &stats, slog.New(slog.DiscardHandler))
	q.push(Event{Kind: "bad"})
	q.push(Event{Kind: "good"})
	q.close()
	if k := <-got; k != "good" {
		t.Fatalf("delivered %s", k)
	}
	if d := stats.delivered.Load(); d != 1 {
		t.Errorf("delivered %d, want 1", d)
	}
}

// TestNoEventQueueWithoutHandler: without OnEvent there is no goroutine
// and pushing is a no-op.
func TestNoEventQueueWithoutHandler(t *testing.T) {
	q := newEventQueue(nil, 4, &kitStats{}, slog.New(slog.DiscardHandler))
	if q != nil {
		t.Fatal("a queue without a handler")
	}
	q.push(Event{Kind: EventAppPaused})
	q.close()
}

// TestRelayWatch follows relays through the states and checks the
// crossings told and the counts by region.
func TestRelayWatch(t *testing.T) {
	const after = 10 * time.Second
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(id, region string, age time.Duration, mod ...func(*store.RelayRecord)) store.RelayRecord {
		r := store.RelayRecord{ID: id, Region: region, ReportedAt: t0.Add(-age), Capacity: 10}
		for _, m := range mod {
			m(&r)
		}
		return r
	}
	draining := func(r *store.RelayRecord) { r.Draining = true }
	full := func(r *store.RelayRecord) { r.Allocations = 10 }
	var w relayWatch
	type told struct {
		kind EventKind
		id   string
	}
	for _, step := range []struct {
		name   string
		relays []store.RelayRecord
		health []RegionHealth
		events []told
	}{
		{"first sight: one silent already", []store.RelayRecord{rec("a", "eu", 0), rec("b", "eu", 11*time.Second), rec("c", "us", 0, draining)},
			[]RegionHealth{{Region: "eu", Healthy: 1, Offline: 1}, {Region: "us", Draining: 1}},
			[]told{{EventRelayOffline, "b"}}},
		{"no crossing", []store.RelayRecord{rec("a", "eu", after), rec("b", "eu", time.Hour), rec("c", "us", 0, full)},
			[]RegionHealth{{Region: "eu", Healthy: 1, Offline: 1}, {Region: "us", Full: 1}}, nil},
		{"a goes, b comes back", []store.RelayRecord{rec("a", "eu", after+time.Nanosecond), rec("b", "eu", 0), rec("c", "us", 0)},
			[]RegionHealth{{Region: "eu", Healthy: 1, Offline: 1}, {Region: "us", Healthy: 1}},
			[]told{{EventRelayOffline, "a"}, {EventRelayOnline, "b"}}},
		{"a leaves the registry", []store.RelayRecord{rec("b", "eu", 0), rec("c", "us", 0)},
			[]RegionHealth{{Region: "eu", Healthy: 1}, {Region: "us", Healthy: 1}}, nil},
		{"a is back, reporting", []store.RelayRecord{rec("a", "eu", 0), rec("b", "eu", 0), rec("c", "us", 0)},
			[]RegionHealth{{Region: "eu", Healthy: 2}, {Region: "us", Healthy: 1}}, nil},
	} {
		health, events := w.observe(step.relays, t0, after)
		if len(health) != len(step.health) {
			t.Fatalf("%s: health %+v, want %+v", step.name, health, step.health)
		}
		for i := range health {
			if health[i] != step.health[i] {
				t.Errorf("%s: health %+v, want %+v", step.name, health, step.health)
			}
		}
		if len(events) != len(step.events) {
			t.Fatalf("%s: events %+v, want %+v", step.name, events, step.events)
		}
		for i, ev := range events {
			if ev.Kind != step.events[i].kind || ev.RelayID != step.events[i].id || !ev.At.Equal(t0) || ev.Region == "" {
				t.Errorf("%s: event %+v, want %+v", step.name, ev, step.events[i])
			}
		}
	}
}

// TestCountersDoNotAllocate: counting a request, timing a store call and
// observing a latency take no allocation.
func TestCountersDoNotAllocate(t *testing.T) {
	var s kitStats
	start := time.Now()
	if n := testing.AllocsPerRun(1000, func() {
		s.request(EndpointNative, 200)
		s.request(Endpoint("unknown"), 999)
		s.timeStore(opBalance, start)
		s.chargeLatency.observe(3 * time.Millisecond)
	}); n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
	var nilStats *kitStats
	nilStats.request(EndpointNative, 200) // a Ledger built alone counts nothing
	nilStats.timeStore(opBalance, start)
	nilStats.charged(start, 1, []bool{true}, nil)
}

// TestHistogramBuckets: a duration lands in the first bucket whose bound
// is at or above it; the snapshot's count is the sum of its buckets.
func TestHistogramBuckets(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{0, 100 * time.Microsecond, 101 * time.Microsecond, time.Millisecond, 5 * time.Second, time.Minute} {
		h.observe(d)
	}
	s := h.snapshot()
	want := map[int]uint64{0: 2, 1: 1, 3: 1, len(latencyBounds) - 1: 1, len(latencyBounds): 1}
	for i, c := range s.Counts {
		if c != want[i] {
			t.Errorf("bucket %d (le %v): %d, want %d", i, bucketBound(i), c, want[i])
		}
	}
	if s.Count != 6 || s.Sum != 0+100*time.Microsecond+101*time.Microsecond+time.Millisecond+5*time.Second+time.Minute {
		t.Errorf("count %d, sum %v", s.Count, s.Sum)
	}
}

// bucketBound names a bucket's bound for messages.
func bucketBound(i int) any {
	if i < len(latencyBounds) {
		return latencyBounds[i]
	}
	return "+Inf"
}

// TestCodeSlots: common codes count on their own, others by class, and
// nonsense as "other"; unknown endpoints as EndpointOther.
func TestCodeSlots(t *testing.T) {
	for code, want := range map[int]string{200: "200", 429: "429", 418: "4xx", 299: "2xx", 103: "1xx", 599: "5xx", 600: "other", 0: "other", -1: "other"} {
		if got := codeLabels[codeSlot(code)]; got != want {
			t.Errorf("code %d → %q, want %q", code, got, want)
		}
	}
	if endpoints[endpointIndex("admin")] != EndpointOther || endpoints[endpointIndex(EndpointBaton)] != EndpointBaton {
		t.Error("endpoint index")
	}
}
