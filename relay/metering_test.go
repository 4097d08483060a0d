package relay_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// TestMeteringExact relays known payloads to an echo peer and back, over
// UDP and TCP between client and relay, and checks that the usage deltas
// add up to exactly the payload bytes each way, with sequence numbers
// 1..n, and that the end event carries the same totals.
func TestMeteringExact(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			sink := &recordingSink{}
			s := newRelay(t, func(c *relay.Config) {
				c.Sink = sink
				c.UsageInterval = 20 * time.Millisecond
			})
			peer := echoPeer(t)
			user, pass := mint("meter", time.Minute)
			c := dialNetwork(t, s, network, user, pass)
			rc, err := allocate(t, c)
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			buf := make([]byte, 1500)
			for i := range 40 {
				// 5 to 1214 bytes, most not a multiple of 4: over TCP this also
				// checks the ChannelData padding. (Payloads of 1 to 4 bytes are
				// held back by pion's STUNConn framing until the next frame.)
				msg := bytes.Repeat([]byte{byte(i)}, 5+i*31)
				if _, err := rc.WriteTo(msg, peer); err != nil {
					t.Fatal(err)
				}
				_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
				n, _, err := rc.ReadFrom(buf)
				if err != nil || !bytes.Equal(buf[:n], msg) {
					t.Fatalf("echo %d: %v", i, err)
				}
				want += int64(len(msg))
				if i%10 == 9 { // let a periodic delta go out
					before := sink.deltas()
					waitFor(t, "a periodic usage delta", func() bool { return sink.deltas() > before })
				}
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the session to end", func() bool { return len(sink.list()) == 2 })

			sink.mu.Lock()
			deltas := append([]relay.UsageDelta(nil), sink.usage...)
			sink.mu.Unlock()
			var toPeer, toClient int64
			for i, d := range deltas {
				if d.Seq != uint64(i+1) {
					t.Fatalf("delta %d has seq %d, want %d", i, d.Seq, i+1)
				}
				toPeer += d.ToPeer
				toClient += d.ToClient
			}
			if len(deltas) < 2 {
				t.Errorf("%d deltas, want periodic ones besides the last", len(deltas))
			}
			for _, d := range deltas[:len(deltas)-1] {
				if d.Final {
					t.Errorf("delta %d is marked final but is not the last", d.Seq)
				}
			}
			if toPeer != want || toClient != want {
				t.Fatalf("metered to peer %d, to client %d; want %d each", toPeer, toClient, want)
			}
			st := s.Stats()
			if st.RelayedBytes != 2*want || st.BytesToPeer != want || st.BytesToClient != want ||
				st.PacketsToPeer != 40 || st.PacketsToClient != 40 {
				t.Fatalf("Stats() = %+v, want %d bytes and 40 packets each way", st, want)
			}
			if got := sink.list(); got[1] != "end meter "+network {
				t.Fatalf("events %v", got)
			}
		})
	}
}

// TestMeteringDisabled: with metering off no usage is reported.
func TestMeteringDisabled(t *testing.T) {
	sink := &recordingSink{}
	s := newRelay(t, func(c *relay.Config) {
		c.Sink = sink
		c.DisableMetering = true
		c.UsageInterval = 10 * time.Millisecond
	})
	peer := echoPeer(t)
	user, pass := mint("nometer", time.Minute)
	rc, err := allocate(t, dial(t, s, user, pass))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = rc.WriteTo([]byte("x"), peer)
	_ = rc.Close()
	waitFor(t, "the session to end", func() bool { return len(sink.list()) == 2 })
	if len(sink.usage) != 0 {
		t.Fatalf("usage reported with metering disabled: %+v", sink.usage)
	}
}

// dialNetwork connects a pion client over udp or tcp.
func dialNetwork(t testing.TB, s *relay.Server, network, user, pass string) *turn.Client {
	t.Helper()
	if network == "udp" {
		return dial(t, s, user, pass)
	}
	return turntest.Dial(t, "tcp", s.TCPAddrs()[0].String(), nil, user, pass, s.Realm())
}

// waitFor polls cond until it holds, for at most 5 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	turntest.Eventually(t, what, cond)
}
