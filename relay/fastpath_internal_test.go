package relay

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
)

// fastSecret signs the credentials of the fast path's tests.
var fastSecret = []byte("fast path test secret")

// usageTotals is a Sink that adds up usage deltas and keeps end events.
type usageTotals struct {
	mu               sync.Mutex
	toPeer, toClient int64
	deltas           int
	ended            []SessionEvent
}

func (u *usageTotals) SessionStarted(context.Context, *SessionEvent) error { return nil }

func (u *usageTotals) Usage(_ context.Context, d *UsageDelta) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.toPeer += d.ToPeer
	u.toClient += d.ToClient
	u.deltas++
	return nil
}

func (u *usageTotals) SessionEnded(_ context.Context, ev *SessionEvent) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ended = append(u.ended, *ev)
	return nil
}

func (u *usageTotals) endedCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.ended)
}

// udpEcho is an echo peer on 127.0.0.3 that counts the bytes it received.
type udpEcho struct {
	pc    net.PacketConn
	mu    sync.Mutex
	bytes int64
}

func newUDPEcho(t testing.TB) *udpEcho {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &udpEcho{pc: pc}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			e.mu.Lock()
			e.bytes += int64(n)
			e.mu.Unlock()
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { _ = pc.Close() })
	return e
}

func (e *udpEcho) received() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bytes
}

// newFastRelay starts a relay on 127.0.0.1 for the fast path's tests.
func newFastRelay(t testing.TB, mod func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		UDPAddrs:   []string{"127.0.0.1:0"},
		Secrets:    NewStaticSecrets("k1", fastSecret),
		AllowPeers: []string{"127.0.0.3"},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// dialFast connects a pion client over UDP with a fresh credential.
func dialFast(t testing.TB, s *Server, app string) net.PacketConn {
	t.Helper()
	u := Username{Expires: time.Now().Add(time.Hour), AppID: app, KeyID: "k1", Nonce: randomID(8)}
	c := turntest.Dial(t, "udp", s.UDPAddrs()[0].String(), nil, u.String(), Credential(fastSecret, u.String()), s.Realm())
	rc, err := turntest.Allocate(t, c)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// fastRun is what one run of echoes through the relay delivered and
// metered.
type fastRun struct {
	atPeer, atClient       int64 // payload bytes received at each end
	meteredPeer, meteredCl int64 // the usage deltas' sums
	endPeer, endClient     int64 // the end event's totals
	stats                  Stats
	fastToPeer, fastToCl   int64 // datagrams the fast path relayed
}

// echoThrough relays payloads of 1 to 1,381 bytes (sizes of every
// remainder modulo 4) to an echo peer and back, over one UDP allocation,
// and returns what arrived and what was metered once the session ended.
func echoThrough(t *testing.T, disable bool) fastRun {
	sink := &usageTotals{}
	s := newFastRelay(t, func(c *Config) {
		c.Sink = sink
		c.UsageInterval = 20 * time.Millisecond
		c.DisableFastPath = disable
	})
	peer := newUDPEcho(t)
	rc := dialFast(t, s, "fast")
	var r fastRun
	buf := make([]byte, 1600)
	for i := range 61 {
		msg := bytes.Repeat([]byte{byte(i + 1)}, 1+i*23)
		if _, err := rc.WriteTo(msg, peer.pc.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, from, err := rc.ReadFrom(buf)
		if err != nil || !bytes.Equal(buf[:n], msg) || from.String() != peer.pc.LocalAddr().String() {
			t.Fatalf("echo %d (%d bytes): got %d bytes from %v, %v", i, len(msg), n, from, err)
		}
		r.atClient += int64(n)
	}
	c := s.connAt(rc.LocalAddr())
	if c == nil {
		t.Fatal("no relayed socket at the client's relayed address")
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	turntest.Eventually(t, "the session to end", func() bool { return sink.endedCount() == 1 })
	// Counted once the session ended: the last datagram's metering may
	// still be under way when its echo is back at the client.
	r.fastToPeer, r.fastToCl = c.fastToPeer.Load(), c.fastToClient.Load()
	r.stats = s.Stats()
	r.atPeer = peer.received()
	sink.mu.Lock()
	r.meteredPeer, r.meteredCl = sink.toPeer, sink.toClient
	r.endPeer, r.endClient = sink.ended[0].ToPeer, sink.ended[0].ToClient
	sink.mu.Unlock()
	return r
}

// TestFastPathSameBytesAndMetering relays the same payloads with the fast
// path on and off: the bytes delivered to each end, the usage deltas, the
// end event and the counters are the same, and with it on the fast path
// relayed ChannelData both ways (with it off, none).
func TestFastPathSameBytesAndMetering(t *testing.T) {
	on := echoThrough(t, false)
	off := echoThrough(t, true)
	t.Logf("fast path on: %d datagrams to the peer and %d to the client of 61 each way", on.fastToPeer, on.fastToCl)
	if on.fastToPeer == 0 || on.fastToCl == 0 {
		t.Fatalf("fast path on relayed %d datagrams to the peer and %d to the client: want some each way", on.fastToPeer, on.fastToCl)
	}
	if off.fastToPeer != 0 || off.fastToCl != 0 {
		t.Fatalf("fast path off relayed %d and %d datagrams", off.fastToPeer, off.fastToCl)
	}
	var want int64
	for i := range 61 {
		want += int64(1 + i*23)
	}
	for name, r := range map[string]fastRun{"on": on, "off": off} {
		if r.atPeer != want || r.atClient != want {
			t.Errorf("fast path %s: %d bytes at the peer, %d at the client; want %d each", name, r.atPeer, r.atClient, want)
		}
		if r.meteredPeer != want || r.meteredCl != want || r.endPeer != want || r.endClient != want {
			t.Errorf("fast path %s: metered %d/%d, end event %d/%d; want %d each way", name, r.meteredPeer, r.meteredCl, r.endPeer, r.endClient, want)
		}
	}
	if on.stats != off.stats {
		t.Errorf("Stats differ:\n on  %+v\n off %+v", on.stats, off.stats)
	}
	if on.stats.PacketsToPeer != 61 || on.stats.PacketsToClient != 61 || on.stats.BytesToPeer != want {
		t.Errorf("Stats %+v: want 61 packets and %d bytes each way", on.stats, want)
	}
}

// TestFastPathPeerRulesOnChannel binds a channel to the relayed address of
// another allocation of the relay, which the peer rules allow while that
// allocation lives, then ends it: ChannelData on the channel is refused
// by the peer rules, fast path on or off, and counted.
func TestFastPathPeerRulesOnChannel(t *testing.T) {
	for _, disable := range []bool{false, true} {
		s := newFastRelay(t, func(c *Config) { c.DisableFastPath = disable })
		a, b := dialFast(t, s, "a"), dialFast(t, s, "b")
		buf := make([]byte, 1600)
		// b's permission for a, so that a's datagrams reach b.
		if _, err := b.WriteTo([]byte("hello a"), a.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		// a's channel to b binds on the first writes; each is read at b.
		for i := range 5 {
			if _, err := a.WriteTo([]byte("hello b"), b.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			_ = b.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, _, err := b.ReadFrom(buf); err != nil {
				t.Fatalf("fast path off=%v: datagram %d from a to b: %v", disable, i, err)
			}
		}
		ca := s.connAt(a.LocalAddr())
		turntest.Eventually(t, "a's channel to b", func() bool { return len(*ca.chans.Load()) == 1 })
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		turntest.Eventually(t, "b's allocation to end", func() bool { return s.Stats().Allocations == 1 })
		before := s.Stats().PeerRefused
		for range 3 {
			_, _ = a.WriteTo([]byte("b is gone"), b.LocalAddr())
		}
		turntest.Eventually(t, "3 refusals", func() bool { return s.Stats().PeerRefused-before == 3 })
		if !disable && ca.fastToPeer.Load() < 3 {
			t.Fatalf("the refused datagrams did not take the fast path (%d did)", ca.fastToPeer.Load())
		}
	}
}
