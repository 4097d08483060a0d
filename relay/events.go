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
	sink    Sink
	log     *slog.Logger
	wake    chan struct{}
	closing chan struct{} // closed by close, to end a gather at once
	done    chan struct{}

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
	q := &eventQueue{sink: sink, log: log, wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
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

// gatherDelay is how long the queue lets events gather before it hands
// them to a sink that takes batches: at a thousand allocations a second,
// ten or so starts then share one transaction instead of one each. It
// delays only the recording of events, never traffic.
const gatherDelay = 10 * time.Millisecond

func (q *eventQueue) run() {
	defer close(q.done)
	_, usage := q.sink.(BatchSink)
	_, sessions := q.sink.(SessionBatchSink)
	batching := usage || sessions
	for {
		if batching {
			q.gather()
		}
		q.mu.Lock()
		items, closed := q.items, q.closed
		q.items = nil
		q.mu.Unlock()
		for i := 0; i < len(items); {
			if n := q.batchRun(items[i:]); n > 0 {
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

// gather waits gatherDelay, or less if the queue closes meanwhile.
func (q *eventQueue) gather() {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return
	}
	t := time.NewTimer(gatherDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-q.closing:
	}
}

// usageRetries bounds how often a failed Usage call is retried.
const usageRetries = 4

// MaxBatch is the most events of one kind the relay hands a BatchSink or
// a SessionBatchSink at once.
const MaxBatch = 500

// kind is the kind of event an item holds: 0 start, 1 usage, 2 end.
func (it queuedEvent) kind() int {
	switch {
	case it.started != nil:
		return 0
	case it.usage != nil:
		return 1
	}
	return 2
}

// batchRun returns how many events of the first item's kind start items,
// at most MaxBatch, when the sink takes that kind in batches (a run of one
// included, so that such a sink gets every event the same way); 0
// otherwise.
func (q *eventQueue) batchRun(items []queuedEvent) int {
	k := items[0].kind()
	switch _, sessions := q.sink.(SessionBatchSink); {
	case k == 1:
		if _, ok := q.sink.(BatchSink); !ok {
			return 0
		}
	case !sessions:
		return 0
	}
	n := 0
	for n < len(items) && n < MaxBatch && items[n].kind() == k {
		n++
	}
	return n
}

// deliverBatch hands a run of events of one kind to the sink's batch
// method; usage is retried as deliver retries it.
func (q *eventQueue) deliverBatch(items []queuedEvent) {
	ctx := context.Background()
	switch items[0].kind() {
	case 0, 2:
		evs := make([]*SessionEvent, len(items))
		for i, it := range items {
			evs[i] = it.started
			if it.ended != nil {
				evs[i] = it.ended
			}
		}
		sink := q.sink.(SessionBatchSink)
		if items[0].started != nil {
			if err := sink.SessionsStarted(ctx, evs); err != nil {
				q.log.Error("session starts not recorded", "sessions", len(evs), "err", err)
			}
		} else if err := sink.SessionsEnded(ctx, evs); err != nil {
			q.log.Error("session ends not recorded", "sessions", len(evs), "err", err)
		}
		return
	}
	ds := make([]*UsageDelta, len(items))
	for i, it := range items {
		ds[i] = it.usage
	}
	var err error
	for try := 0; try <= usageRetries; try++ {
		if try > 0 {
			time.Sleep(time.Duration(50<<try) * time.Millisecond)
		}
		if err = q.sink.(BatchSink).UsageBatch(ctx, ds); err == nil {
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
	if !q.closed {
		q.closed = true
		close(q.closing)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}
