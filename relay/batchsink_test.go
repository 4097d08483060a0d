package relay_test

import (
	"context"
	"net"
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

// TestUsageBatches: with a BatchSink, the periodic flush of several live
// allocations arrives as one batch of their deltas, after their start
// events, with each delta's bytes exact; Usage is not called for them.
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
	// All four relay within a few microseconds, so one flush takes them all.
	for i, rc := range conns {
		msg := make([]byte, 100*(i+1))
		if _, err := rc.WriteTo(msg, peer); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, _, err := rc.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a delta of every allocation", func() bool { _, n := sink.list(); return n >= clients })
	batches, _ := sink.list()
	largest := 0
	var bytes int64
	for _, bt := range batches {
		largest = max(largest, len(bt))
		for _, d := range bt {
			bytes += d.Bytes()
		}
	}
	if largest < 2 {
		t.Fatalf("batches %v: the flush of %d allocations came one delta at a time", batches, clients)
	}
	if want := int64(2 * 100 * (1 + 2 + 3 + 4)); bytes != want {
		t.Fatalf("batched deltas carry %d bytes, want %d", bytes, want)
	}
	if n := sink.deltas(); n != 0 {
		t.Fatalf("Usage was called %d times with a BatchSink", n)
	}
	if starts := len(sink.recordingSink.list()); starts != clients {
		t.Fatalf("%d start events, want %d", starts, clients)
	}
}
