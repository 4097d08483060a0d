package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnkit/turnkit/store"
)

// Notifications travel on one PostgreSQL channel of the database.
const (
	// Channel is the channel that Publish notifies and Subscribe listens
	// on.
	Channel = "turnkit_changes"
	// ListenerName is the application_name of the connections that
	// subscriptions listen on, as pg_stat_activity shows them.
	ListenerName = "turnkit-listener"
	// maxPayload bounds a notification's payload below the server's
	// limit of 8000 bytes.
	maxPayload = 7900
)

// Reconnection of a subscription whose connection dropped.
const (
	minReconnect = 50 * time.Millisecond
	maxReconnect = 5 * time.Second
)

// payload is a Change as it travels: {"kind":"key","id":"k1"}.
type payload struct {
	Kind store.ChangeKind `json:"kind"`
	ID   string           `json:"id,omitempty"`
}

// Publish sends c to every subscriber of the database, on every node, this
// one included (pg_notify on Channel). Delivery is best effort: a
// subscriber whose connection is down when c is sent gets a ChangeAll
// once it is back instead.
func (s *Store) Publish(ctx context.Context, c store.Change) error {
	b, err := json.Marshal(payload{c.Kind, c.ID})
	if err != nil {
		return fmt.Errorf("postgres: publish %s %q: %w", c.Kind, c.ID, err)
	}
	if len(b) > maxPayload {
		return fmt.Errorf("postgres: publish %s: payload of %d bytes, at most %d", c.Kind, len(b), maxPayload)
	}
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, string(b)); err != nil {
		return fmt.Errorf("postgres: publish %s %q: %w", c.Kind, c.ID, classify(ctx, err))
	}
	return nil
}

// Subscribe calls fn for every change published to the database, from the
// calling goroutine, until ctx is done (it then returns ctx's error) or
// the Store is closed (it then returns nil).
//
// It listens on a connection of its own, opened with the pool's
// connection settings and the application_name ListenerName. When that
// connection fails, Subscribe opens another, waiting 50ms after the first
// failure and twice as long after each next one, up to 5s; once it
// listens again, fn gets a ChangeAll, since changes may have been missed
// meanwhile (also when the first connection could not be opened at once).
// A notification on Channel that is not a Change also yields a ChangeAll.
//
// fn must not call the Store's Close, which waits for Subscribe to return.
func (s *Store) Subscribe(ctx context.Context, fn func(store.Change)) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.subs.Add(1)
	s.mu.Unlock()
	defer s.subs.Done()

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()

	cfg := s.pool.Config().ConnConfig // a copy: this subscription's own
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenerName
	wait, missed := minReconnect, false
	for {
		conn, err := listen(lctx, cfg)
		if err == nil {
			if missed {
				fn(store.Change{Kind: store.ChangeAll})
			}
			wait = minReconnect
			receive(lctx, conn, fn)
			closeConn(conn)
		}
		if lctx.Err() != nil {
			return ctx.Err() // nil when the Store was closed
		}
		missed = true
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-lctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, maxReconnect)
	}
}

// listen opens a connection and listens on Channel.
func listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{Channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// receive delivers the notifications of conn to fn until ctx is done or
// the connection fails.
func receive(ctx context.Context, conn *pgx.Conn, fn func(store.Change)) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		var p payload
		if n.Channel != Channel || json.Unmarshal([]byte(n.Payload), &p) != nil || p.Kind == "" {
			p = payload{Kind: store.ChangeAll}
		}
		fn(store.Change{Kind: p.Kind, ID: p.ID})
	}
}

// closeConn closes a listening connection, briefly: on a failed
// connection there is nothing to wait for.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
