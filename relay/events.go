package relay

import (
	"context"
	"log/slog"
	"sync"
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

type queuedEvent struct {
	started bool
	ev      *SessionEvent
}

func newEventQueue(sink Sink, log *slog.Logger) *eventQueue {
	q := &eventQueue{sink: sink, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// push queues an event; after close it is dropped.
func (q *eventQueue) push(started bool, ev *SessionEvent) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, queuedEvent{started, ev})
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
		for _, it := range items {
			q.deliver(it)
		}
		if closed && len(items) == 0 {
			return
		}
		if len(items) == 0 {
			<-q.wake
		}
	}
}

func (q *eventQueue) deliver(it queuedEvent) {
	if q.sink == nil {
		return
	}
	ctx := context.Background()
	var err error
	if it.started {
		err = q.sink.SessionStarted(ctx, it.ev)
	} else {
		err = q.sink.SessionEnded(ctx, it.ev)
	}
	if err != nil {
		q.log.Error("session event not recorded", "session", it.ev.SessionID, "started", it.started, "err", err)
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
