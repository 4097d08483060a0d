package relay_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/turnkit/turnkit/relay"
)

// flood sends n unauthenticated Allocate and Binding requests from one
// socket and returns the bytes sent, the bytes that came back and the
// number of replies.
func flood(t *testing.T, s *relay.Server, n int) (sent, got, replies int64) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var back, count atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			back.Add(int64(k))
			count.Add(1)
		}
	}()
	transport := stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}
	for i := range n {
		var m *stun.Message
		if i%2 == 0 {
			m = stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), transport)
		} else {
			m = stun.MustBuild(stun.TransactionID, stun.BindingRequest)
		}
		if _, err := conn.WriteTo(m.Raw, s.UDPAddrs()[0]); err != nil {
			t.Fatal(err)
		}
		sent += int64(len(m.Raw))
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	<-done
	return sent, back.Load(), count.Load()
}

// TestNoAmplification: an unauthenticated flood gets back no more bytes
// than it sent (a bare pion relay answers with more than twice as many),
// and no more replies per second than the per-source rate.
func TestNoAmplification(t *testing.T) {
	s := newRelay(t, nil)
	start := time.Now()
	sent, got, replies := flood(t, s, 2000)
	secs := time.Since(start).Seconds()
	t.Logf("turnkit: %d bytes in, %d bytes out (ratio %.2f), %d replies, %d dropped", sent, got, float64(got)/float64(sent), replies, s.Stats().UnauthDropped)
	if got > sent {
		t.Fatalf("%d bytes out for %d bytes in", got, sent)
	}
	if maxReplies := 20 + 10*secs + 1; float64(replies) > maxReplies {
		t.Fatalf("%d replies in %.1f s: more than the %.0f the per-source rate allows", replies, secs, maxReplies)
	}

	off := newRelay(t, func(c *relay.Config) { c.UnauthReplyRatio = -1 })
	sent, got, _ = flood(t, off, 2000)
	t.Logf("budget off: %d bytes in, %d bytes out (ratio %.2f)", sent, got, float64(got)/float64(sent))
	if got <= sent {
		t.Fatalf("with the budget off the flood was not amplified (%d in, %d out): the comparison proves nothing", sent, got)
	}
}

// TestFirstContactWithBudget: a real client still allocates under the
// budget; the first challenge comes after its retransmission.
func TestFirstContactWithBudget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ratio float64
	}{{"budget=off", -1}, {"budget=1", 0}} {
		s := newRelay(t, func(c *relay.Config) { c.UnauthReplyRatio = tc.ratio })
		user, pass := mint("first", time.Minute)
		start := time.Now()
		if _, err := allocate(t, dial(t, s, user, pass)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: first allocation took %s (client RTO 100 ms)", tc.name, time.Since(start).Round(time.Millisecond))
	}
}
