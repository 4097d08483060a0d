package relay_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// countingPeer is a UDP peer on 127.0.0.3 that counts what arrives.
type countingPeer struct {
	pc      net.PacketConn
	packets atomic.Int64
}

func newCountingPeer(b *testing.B) *countingPeer {
	pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
	if err != nil {
		b.Fatal(err)
	}
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(8 << 20)
	}
	p := &countingPeer{pc: pc}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			p.packets.Add(1)
		}
	}()
	b.Cleanup(func() { _ = pc.Close() })
	return p
}

// settle waits until the count stops moving (bounded), so packets still in
// flight when the timer stops are counted.
func (p *countingPeer) settle() int64 {
	last := p.packets.Load()
	for range 20 {
		time.Sleep(25 * time.Millisecond)
		now := p.packets.Load()
		if now == last {
			return now
		}
		last = now
	}
	return last
}

// BenchmarkRelayUDP sends 200-byte datagrams from one pion client through
// the relay (ChannelData after the first send) to a peer, paced at 100k
// messages/s and unpaced, with the kernel's default socket buffers and with
// the relay's defaults, in one run. It reports the delivered fraction and
// the send rate achieved.
func BenchmarkRelayUDP(b *testing.B) {
	for _, tc := range []struct {
		name    string
		buf     int
		rate    int // messages per second; 0 = as fast as the client can
		noMeter bool
	}{
		{"rate=100k/buffers=kernel", -1, 100_000, false},
		{"rate=100k/buffers=relay-default", 0, 100_000, false},
		{"rate=max/buffers=kernel", -1, 0, false},
		{"rate=max/buffers=relay-default", 0, 0, false},
		{"rate=max/metering=off", 0, 0, true},
		{"rate=max/metering=on", 0, 0, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sink := &recordingSink{}
			s := newRelay(b, func(c *relay.Config) {
				c.TCPAddrs = nil
				c.ListenerBufferBytes, c.RelayBufferBytes = tc.buf, tc.buf
				c.DisableMetering = tc.noMeter
				c.AllocationBitrate = -1 // measure the relay, not the cap
				c.Sink = sink
				c.UsageInterval = 100 * time.Millisecond
			})
			peer := newCountingPeer(b)
			user, pass := mint("bench", time.Hour)
			rc, err := allocate(b, dial(b, s, user, pass))
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 200)
			if _, err := rc.WriteTo(payload, peer.pc.LocalAddr()); err != nil {
				b.Fatal(err)
			}
			peer.settle()
			before := peer.packets.Load()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				_, _ = rc.WriteTo(payload, peer.pc.LocalAddr())
				if tc.rate > 0 && i%100 == 99 {
					due := start.Add(time.Duration(i+1) * time.Second / time.Duration(tc.rate))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			got := peer.settle() - before
			b.ReportMetric(float64(got)/float64(b.N), "delivered/sent")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sent/s")
			b.ReportMetric(float64(got)/elapsed.Seconds(), "delivered/s")
		})
	}
}
