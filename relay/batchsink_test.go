package relay_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// batchSink is a recordingSink that also takes usage in batches.
type batchSink struct {
	recordingSink
	bmu     sync.Mutex
	batches [][]relay.UsageDelta
}

func (b *batchSink) UsageBatch(_ context.Context, ds []*relay.UsageDelta) error {
	batch := make([]relay.UsageDelta, len(ds))
	for i, d := range ds {
		batch[i] = *d
	}
	b.bmu.Lock()
	b.batches = append(b.batches, batch)
	b.bmu.Unlock()
	return nil
}

func (b *batchSink) list() ([][]relay.UsageDelta, int) {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	n := 0
	for _, bt := range b.batches {
		n += len(bt)
	}
	return append([][]relay.UsageDelta(nil), b.batches...), n
}

// batchedBytes sums the bytes of every delta the sink got in batches.
func batchedBytes(b *batchSink) int64 {
	batches, _ := b.list()
	var n int64
	for _, bt := range batches {
		for _, d := range bt {
			n += d.Bytes()
		}
	}
	return n
}

// TestUsageBatches: with a BatchSink, the periodic flush of several live
// allocations arrives as one batch of their deltas, after their start
// events, with each delta's bytes exact; Usage is never called.
func TestUsageBatches(t *testing.T) {
	sink := &batchSink{}
	s := newRelay(t, func(c *relay.Config) {
		c.Sink = sink
		c.UsageInterval = 50 * time.Millisecond
	})
	peer := echoPeer(t)
	const clients = 4
	var conns []net.PacketConn
	for range clients {
		user, pass := mint("batch", time.Minute)
		rc, err := allocate(t, dial(t, s, user, pass))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, rc)
	}
	// Each round, all four send first and then read their echoes, so that
	// one flush usually takes the four deltas at once; on a loaded machine
	// a flush can split a round, so a few rounds are allowed.
	var want int64
	largest := 0
	for round := 0; round < 5 && largest < 2; round++ {
		for i, rc := range conns {
			if _, err := rc.WriteTo(make([]byte, 100*(i+1)), peer); err != nil {
				t.Fatal(err)
			}
			want += int64(2 * 100 * (i + 1))
		}
		buf := make([]byte, 1500)
		for _, rc := range conns {
			_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, _, err := rc.ReadFrom(buf); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the round's deltas", func() bool { return batchedBytes(sink) == want })
		batches, _ := sink.list()
		for _, bt := range batches {
			largest = max(largest, len(bt))
		}
	}
	if largest < 2 {
		t.Fatalf("in five rounds, the flushes of %d allocations came one delta at a time", clients)
	}
	if n := sink.deltas(); n != 0 {
		t.Fatalf("Usage was called %d times with a BatchSink", n)
	}
	if starts := len(sink.recordingSink.list()); starts != clients {
		t.Fatalf("%d start events, want %d", starts, clients)
	}
}

// sessionBatchSink records batched session starts and ends, in order.
type sessionBatchSink struct {
	recordingSink
	smu   sync.Mutex
	order []string // "start <id>" and "end <id>", in delivery order
}

func (b *sessionBatchSink) SessionsStarted(_ context.Context, evs []*relay.SessionEvent) error {
	b.smu.Lock()
	defer b.smu.Unlock()
	for _, ev := range evs {
		b.order = append(b.order, "start "+ev.SessionID)
	}
	return nil
}

func (b *sessionBatchSink) SessionsEnded(_ context.Context, evs []*relay.SessionEvent) error {
	b.smu.Lock()
	defer b.smu.Unlock()
	for _, ev := range evs {
		b.order = append(b.order, "end "+ev.SessionID)
	}
	return nil
}

func (b *sessionBatchSink) delivered() []string {
	b.smu.Lock()
	defer b.smu.Unlock()
	return append([]string(nil), b.order...)
}

// TestSessionBatches: with a SessionBatchSink, every start and end goes
// through the batch methods, each session's start before its end, and the
// single methods are never called.
func TestSessionBatches(t *testing.T) {
	sink := &sessionBatchSink{}
	s := newRelay(t, func(c *relay.Config) { c.Sink = sink })
	const clients = 8
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user, pass := mint("batch", time.Minute)
			rc, err := allocate(t, dial(t, s, user, pass))
			if err != nil {
				errs <- err
				return
			}
			errs <- rc.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every start and end", func() bool { return len(sink.delivered()) == 2*clients })
	started := map[string]bool{}
	for _, e := range sink.delivered() {
		kind, id, _ := strings.Cut(e, " ")
		switch kind {
		case "start":
			started[id] = true
		case "end":
			if !started[id] {
				t.Fatalf("session %s ended before it started: %v", id, sink.delivered())
			}
		}
	}
	if len(started) != clients {
		t.Fatalf("%d sessions started, want %d", len(started), clients)
	}
	if single := sink.recordingSink.list(); len(single) != 0 {
		t.Fatalf("the single methods were called: %v", single)
	}
}
