package relay

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// eventQueue delivers session events to the Sink from one goroutine, in
// order. Pushing never blocks the caller (pion's request and packet
// goroutines); the queue grows instead.
type eventQueue struct {
	sink Sink
	log  *slog.Logger
	wake chan struct{}
	done chan struct{}

	mu     sync.Mutex // guards the following fields
	items  []queuedEvent
	closed bool
}

// queuedEvent holds exactly one of its fields.
type queuedEvent struct {
	started *SessionEvent
	usage   *UsageDelta
	ended   *SessionEvent
}

func newEventQueue(sink Sink, log *slog.Logger) *eventQueue {
	q := &eventQueue{sink: sink, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// push queues an event; after close it is dropped.
func (q *eventQueue) push(ev queuedEvent) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		items, closed := q.items, q.closed
		q.items = nil
		q.mu.Unlock()
		for i := 0; i < len(items); {
			if n := q.usageRun(items[i:]); n > 0 {
				q.deliverBatch(items[i : i+n])
				i += n
				continue
			}
			q.deliver(items[i])
			i++
		}
		if closed && len(items) == 0 {
			return
		}
		if len(items) == 0 {
			<-q.wake
		}
	}
}

// usageRetries bounds how often a failed Usage call is retried.
const usageRetries = 4

// MaxUsageBatch is the most usage deltas the relay hands a BatchSink at
// once.
const MaxUsageBatch = 500

// usageRun returns how many usage events start items, at most
// MaxUsageBatch, when the sink takes batches (a run of one included, so
// that a BatchSink gets every delta the same way); 0 otherwise.
func (q *eventQueue) usageRun(items []queuedEvent) int {
	if _, ok := q.sink.(BatchSink); !ok {
		return 0
	}
	n := 0
	for n < len(items) && n < MaxUsageBatch && items[n].usage != nil {
		n++
	}
	return n
}

// deliverBatch hands a run of usage events to the BatchSink, retrying as
// deliver does.
func (q *eventQueue) deliverBatch(items []queuedEvent) {
	ds := make([]*UsageDelta, len(items))
	for i, it := range items {
		ds[i] = it.usage
	}
	var err error
	for try := 0; try <= usageRetries; try++ {
		if try > 0 {
			time.Sleep(time.Duration(50<<try) * time.Millisecond)
		}
		if err = q.sink.(BatchSink).UsageBatch(context.Background(), ds); err == nil {
			return
		}
	}
	var bytes int64
	for _, d := range ds {
		bytes += d.Bytes()
	}
	q.log.Error("usage batch not recorded", "deltas", len(ds), "bytes", bytes, "err", err)
}

func (q *eventQueue) deliver(it queuedEvent) {
	if q.sink == nil {
		return
	}
	ctx := context.Background()
	switch {
	case it.started != nil:
		if err := q.sink.SessionStarted(ctx, it.started); err != nil {
			q.log.Error("session start not recorded", "session", it.started.SessionID, "err", err)
		}
	case it.usage != nil:
		var err error
		for try := 0; try <= usageRetries; try++ {
			if try > 0 {
				time.Sleep(time.Duration(50<<try) * time.Millisecond)
			}
			if err = q.sink.Usage(ctx, it.usage); err == nil {
				return
			}
		}
		q.log.Error("usage not recorded", "session", it.usage.SessionID, "seq", it.usage.Seq,
			"bytes", it.usage.Bytes(), "err", err)
	case it.ended != nil:
		if err := q.sink.SessionEnded(ctx, it.ended); err != nil {
			q.log.Error("session end not recorded", "session", it.ended.SessionID, "err", err)
		}
	}
}

// close delivers what is queued and stops the worker.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}
