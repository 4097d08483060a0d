package relay_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"

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

// BenchmarkAllocations runs 2,000 allocations (Allocate, then
// CreatePermission) per iteration from one IP, 32 in flight, each from a
// new client socket as a crowd behind one NAT would, with pion's default
// retransmission timeout (200 ms): with the default admission and with
// admission off, in one process. Any failed allocation fails the
// benchmark. It reports allocations per second and the p50 and p99 of one
// allocation's time.
func BenchmarkAllocations(b *testing.B) {
	const perIteration, inFlight = 2000, 32
	for _, tc := range []struct {
		name string
		off  bool
	}{{"admission=default", false}, {"admission=off", true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := newRelay(b, func(c *relay.Config) {
				c.TCPAddrs = nil
				c.DisableAdmission = tc.off
			})
			server := s.UDPAddrs()[0].String()
			peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: 9}
			var (
				mu       sync.Mutex
				lat      []time.Duration
				failures []error
			)
			one := func() {
				start := time.Now()
				err := func() error {
					pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
					if err != nil {
						return err
					}
					defer pc.Close()
					user, pass := mint("load", time.Hour)
					c, err := turn.NewClient(&turn.ClientConfig{
						STUNServerAddr: server, TURNServerAddr: server, Conn: pc,
						Username: user, Password: pass, Realm: s.Realm(),
					})
					if err != nil {
						return err
					}
					defer c.Close()
					if err := c.Listen(); err != nil {
						return err
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					rc, err := c.AllocateWithContext(ctx)
					if err != nil {
						return fmt.Errorf("allocate: %w", err)
					}
					defer rc.Close()
					if err := c.CreatePermission(peer); err != nil {
						return fmt.Errorf("create permission: %w", err)
					}
					return nil
				}()
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures = append(failures, err)
					return
				}
				lat = append(lat, d)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				work := make(chan struct{})
				var wg sync.WaitGroup
				for range inFlight {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range work {
							one()
						}
					}()
				}
				for range perIteration {
					work <- struct{}{}
				}
				close(work)
				wg.Wait()
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if len(failures) > 0 {
				b.Fatalf("%d of %d allocations failed; first: %v", len(failures), b.N*perIteration, failures[0])
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "allocs/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			st := s.Stats()
			b.ReportMetric(float64(st.UnauthDropped+st.UnauthOverRate), "unauth-dropped")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkUnauthReplies measures how fast the relay answers
// unauthenticated Allocates (each a 28-byte request drawing a 68-byte 401)
// from 50 loopback sources, 256 in flight: with the default admission
// uncapped, and with admission off. Its reply rate is what a spoofed flood
// could reflect without the relay-wide cap, the basis of that cap's
// default. It reports replies and bytes of replies per second.
func BenchmarkUnauthReplies(b *testing.B) {
	for _, tc := range []struct {
		name string
		mod  func(*relay.Config)
	}{
		{"admission=uncapped", func(c *relay.Config) { c.UnauthBytesPerSecond = -1 }},
		{"admission=off", func(c *relay.Config) { c.DisableAdmission = true }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := newRelay(b, func(c *relay.Config) { c.TCPAddrs = nil; tc.mod(c) })
			dst := s.UDPAddrs()[0]
			window := make(chan struct{}, 256)
			var sources []*unauthSource
			for i := range 50 {
				sources = append(sources, newUnauthSource(b, fmt.Sprintf("127.0.3.%d:0", 1+i), func() { <-window }))
			}
			msg := allocateRequest(false)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				select {
				case window <- struct{}{}:
				case <-time.After(time.Second): // a reply was lost: go on
				}
				sources[i%len(sources)].send(b, dst, msg)
			}
			var got, bytes int64
			for range 200 {
				if got = sumReplies(sources); got >= int64(b.N) {
					break
				}
				<-time.After(5 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			for _, u := range sources {
				bytes += u.back.Load()
			}
			b.ReportMetric(float64(got)/elapsed.Seconds(), "replies/s")
			b.ReportMetric(float64(bytes)/elapsed.Seconds()/(1<<20), "MiB/s")
			b.ReportMetric(float64(got)/float64(b.N), "answered/sent")
		})
	}
}

func sumReplies(us []*unauthSource) (n int64) {
	for _, u := range us {
		n += u.replies.Load()
	}
	return n
}
