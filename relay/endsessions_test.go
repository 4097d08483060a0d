package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// eventLog is a Sink that keeps every event whole.
type eventLog struct {
	mu      sync.Mutex
	started []relay.SessionEvent
	usage   []relay.UsageDelta
	ended   []relay.SessionEvent
}

func (l *eventLog) SessionStarted(_ context.Context, ev *relay.SessionEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = append(l.started, *ev)
	return nil
}

func (l *eventLog) Usage(_ context.Context, d *relay.UsageDelta) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.usage = append(l.usage, *d)
	return nil
}

func (l *eventLog) SessionEnded(_ context.Context, ev *relay.SessionEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = append(l.ended, *ev)
	return nil
}

// of returns the usage deltas and end events of one session.
func (l *eventLog) of(id string) (deltas []relay.UsageDelta, ends []relay.SessionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.usage {
		if d.SessionID == id {
			deltas = append(deltas, d)
		}
	}
	for _, e := range l.ended {
		if e.SessionID == id {
			ends = append(ends, e)
		}
	}
	return deltas, ends
}

func (l *eventLog) startedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.started)
}

// mintFull mints a username with the optional API key and gateway
// segments.
func mintFull(app, apiKey, gateway string) (string, string) {
	u := relay.Username{Expires: time.Now().Add(time.Minute), AppID: app, KeyID: "k1",
		Nonce: "n" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", ""), APIKey: apiKey, Gateway: gateway}
	name := u.String()
	return name, relay.Credential(testSecret, name)
}

// echoRounds sends n payloads of growing size to the echo peer and reads
// each back; it returns the bytes sent one way.
func echoRounds(t *testing.T, rc net.PacketConn, peer net.Addr, n int) int64 {
	t.Helper()
	var total int64
	buf := make([]byte, 1500)
	for i := range n {
		msg := bytes.Repeat([]byte{byte(i)}, 5+i*17)
		if _, err := rc.WriteTo(msg, peer); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		got, _, err := rc.ReadFrom(buf)
		if err != nil || !bytes.Equal(buf[:got], msg) {
			t.Fatalf("echo %d: %v", i, err)
		}
		total += int64(len(msg))
	}
	return total
}

// closeNotice is a client connection that reports when its reads fail:
// when the relay closed it.
type closeNotice struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *closeNotice) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.once.Do(func() { close(c.closed) })
	}
	return n, err
}

// TestEndSessions ends the sessions of one app, on UDP and on TCP, while
// another app's session goes on: the ended ones each get exactly one final
// delta and one end event, their deltas add up to what was relayed, the
// relay's allocation count drops, Sessions shows only the survivor and the
// TCP client's connection closes.
// The usage interval is long, so that each session's usage is all in its
// final delta (TestMeteringExact covers periodic deltas).
func TestEndSessions(t *testing.T) {
	log := &eventLog{}
	s := newRelay(t, func(c *relay.Config) {
		c.Sink = log
		c.UsageInterval = time.Hour
	})
	peer := echoPeer(t)

	type client struct {
		name, network, app string
		rc                 net.PacketConn
		relayed            int64
	}
	clients := []*client{
		{name: "victim udp", network: "udp", app: "victim"},
		{name: "victim tcp", network: "tcp", app: "victim"},
		{name: "bystander", network: "udp", app: "bystander"},
	}
	var tcpConn *closeNotice
	for _, c := range clients {
		user, pass := mintFull(c.app, "key"+c.app, "0f0f")
		var tc *turn.Client
		if c.network == "tcp" {
			conn, err := net.DialTimeout("tcp", s.TCPAddrs()[0].String(), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			tcpConn = &closeNotice{Conn: conn, closed: make(chan struct{})}
			tc = turntest.Dial(t, "", s.TCPAddrs()[0].String(), tcpConn, user, pass, s.Realm())
		} else {
			tc = dial(t, s, user, pass)
		}
		rc, err := allocate(t, tc)
		if err != nil {
			t.Fatalf("%s: allocate: %v", c.name, err)
		}
		c.rc = rc
		c.relayed = echoRounds(t, rc, peer, 20)
	}
	waitFor(t, "three sessions to start", func() bool { return log.startedCount() == 3 })

	// A relayed packet is counted just after the relay's write returns, so
	// the echo can come back before its count is in: wait for the totals.
	var live []relay.LiveSession
	waitFor(t, "the live counters", func() bool {
		live = s.Sessions()
		var sum int64
		for _, ls := range live {
			sum += ls.ToPeer + ls.ToClient
		}
		return len(live) == 3 && sum == 2*(clients[0].relayed+clients[1].relayed+clients[2].relayed)
	})
	ids := map[string]relay.LiveSession{}
	for i, ls := range live {
		if i > 0 && ls.At.Before(live[i-1].At) {
			t.Errorf("Sessions() is not oldest first")
		}
		if ls.KeyID != "key"+ls.AppID || ls.Gateway != "0f0f" || ls.RelayID != s.ID() {
			t.Errorf("live session %+v: want KeyID key%s, gateway 0f0f, relay %s", ls, ls.AppID, s.ID())
		}
		if text := fmt.Sprintf("%+v", ls); strings.Contains(text, "127.0.0.") {
			t.Errorf("a live session holds an address: %s", text)
		}
		ids[ls.SessionID] = ls
	}
	for _, c := range clients {
		found := false
		for _, ls := range live {
			if ls.AppID == c.app && ls.Transport == c.network && ls.ToPeer == c.relayed && ls.ToClient == c.relayed {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no live session with %d bytes each way in %+v", c.name, c.relayed, live)
		}
	}

	var seen int
	start := time.Now()
	n := s.EndSessions(func(ev *relay.SessionEvent) bool {
		seen++
		match := ev.AppID == "victim"
		ev.AppID = "tampered" // a copy: the relay's records do not change
		return match
	})
	if n != 2 || seen != 3 {
		t.Fatalf("EndSessions ended %d (match called %d times), want 2 (3)", n, seen)
	}
	t.Logf("EndSessions took %v", time.Since(start))
	// EndSessions returns once the ends are queued; the Sink sees them in
	// order, so wait for the queue to deliver them.
	waitFor(t, "two end events", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return len(log.ended) == 2
	})
	if got := s.Stats().Allocations; got != 1 {
		t.Errorf("Allocations = %d after EndSessions, want 1", got)
	}
	if left := s.Sessions(); len(left) != 1 || left[0].AppID != "bystander" {
		t.Errorf("Sessions() after EndSessions = %+v, want the bystander's alone", left)
	}

	// The bystander goes on relaying.
	clients[2].relayed += echoRounds(t, clients[2].rc, peer, 5)
	waitFor(t, "the bystander's counters", func() bool {
		left := s.Sessions()
		return len(left) == 1 && left[0].ToPeer == clients[2].relayed && left[0].ToClient == clients[2].relayed
	})

	// The victim on TCP finds its connection closed.
	select {
	case <-tcpConn.closed:
	case <-time.After(3 * time.Second):
		t.Errorf("victim tcp: the client connection is still open after EndSessions")
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for id, ls := range ids {
		deltas, ends := log.of(id)
		var toPeer, toClient int64
		finals := 0
		for i, d := range deltas {
			if d.Seq != uint64(i+1) {
				t.Errorf("%s %s: delta %d has seq %d", ls.AppID, ls.Transport, i, d.Seq)
			}
			if d.Final {
				finals++
			}
			toPeer += d.ToPeer
			toClient += d.ToClient
		}
		var want int64
		for _, c := range clients {
			if c.app == ls.AppID && c.network == ls.Transport {
				want = c.relayed
			}
		}
		if toPeer != want || toClient != want {
			t.Errorf("%s %s: deltas total %d to peer, %d to client; relayed %d each way", ls.AppID, ls.Transport, toPeer, toClient, want)
		}
		if finals != 1 || len(deltas) == 0 || !deltas[len(deltas)-1].Final {
			t.Errorf("%s %s: %d final deltas in %d, want exactly one, the last", ls.AppID, ls.Transport, finals, len(deltas))
		}
		if len(ends) != 1 || ends[0].ToPeer != want || ends[0].ToClient != want || ends[0].AppID != ls.AppID {
			t.Errorf("%s %s: end events %+v, want one with %d bytes each way", ls.AppID, ls.Transport, ends, want)
		}
	}
}

// TestEndSessionsNoMatch: a match that accepts nothing ends nothing, and
// EndSessions after Close ends nothing.
func TestEndSessionsNoMatch(t *testing.T) {
	log := &eventLog{}
	s := newRelay(t, func(c *relay.Config) { c.Sink = log })
	user, pass := mint("keep", time.Minute)
	if _, err := allocate(t, dial(t, s, user, pass)); err != nil {
		t.Fatal(err)
	}
	if n := s.EndSessions(func(*relay.SessionEvent) bool { return false }); n != 0 {
		t.Fatalf("EndSessions(none) = %d", n)
	}
	if got := s.Stats().Allocations; got != 1 {
		t.Fatalf("Allocations = %d, want 1", got)
	}
	_ = s.Close()
	if n := s.EndSessions(func(*relay.SessionEvent) bool { return true }); n != 0 {
		t.Fatalf("EndSessions after Close = %d", n)
	}
	if len(log.ended) != 1 {
		t.Fatalf("%d end events, want 1 (at Close)", len(log.ended))
	}
}

// TestEndSessionsDuringClose: EndSessions and Close at once end every
// session exactly once.
func TestEndSessionsDuringClose(t *testing.T) {
	log := &eventLog{}
	s := newRelay(t, func(c *relay.Config) { c.Sink = log })
	for i := range 4 {
		user, pass := mint(fmt.Sprintf("app%d", i), time.Minute)
		if _, err := allocate(t, dial(t, s, user, pass)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan int)
	go func() { done <- s.EndSessions(func(*relay.SessionEvent) bool { return true }) }()
	_ = s.Close()
	<-done
	log.mu.Lock()
	defer log.mu.Unlock()
	ended := map[string]int{}
	for _, e := range log.ended {
		ended[e.SessionID]++
	}
	if len(log.started) != 4 || len(ended) != 4 {
		t.Fatalf("%d started, %d ended, want 4 and 4", len(log.started), len(ended))
	}
	for id, n := range ended {
		if n != 1 {
			t.Errorf("session %s ended %d times", id, n)
		}
	}
}

// TestEndSessionsTCPAllocation ends an RFC 6062 TCP allocation, which has
// a relayed TCP listener instead of a relayed UDP socket; its client is on
// UDP, so closing the listener is what makes pion delete it.
func TestEndSessionsTCPAllocation(t *testing.T) {
	log := &eventLog{}
	s := newRelay(t, func(c *relay.Config) { c.Sink = log })
	user, pass := mint("tcpalloc", time.Minute)
	c := dial(t, s, user, pass)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	alloc, err := c.AllocateTCPWithContext(ctx)
	if err != nil {
		t.Fatalf("AllocateTCP: %v", err)
	}
	t.Cleanup(func() { _ = alloc.Close() })
	waitFor(t, "the session to start", func() bool { return log.startedCount() == 1 })
	if n := s.EndSessions(func(ev *relay.SessionEvent) bool { return ev.AppID == "tcpalloc" }); n != 1 {
		t.Fatalf("EndSessions = %d, want 1", n)
	}
	if got := s.Stats().Allocations; got != 0 {
		t.Fatalf("Allocations = %d after EndSessions, want 0", got)
	}
	waitFor(t, "the end event", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return len(log.ended) == 1
	})
}
