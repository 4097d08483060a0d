//go:build unix

package metrics_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/metrics"
)

// countingPeer is a UDP peer on echoIP that counts what arrives.
type countingPeer struct {
	pc      net.PacketConn
	packets atomic.Int64
}

func newCountingPeer(b *testing.B) *countingPeer {
	pc, err := net.ListenPacket("udp4", echoIP+":0")
	if err != nil {
		b.Fatal(err)
	}
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(8 << 20)
	}
	p := &countingPeer{pc: pc}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			p.packets.Add(1)
		}
	}()
	b.Cleanup(func() { _ = pc.Close(); <-done })
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

// allocate opens an allocation on kit's relay for a new app, with a
// credential from kit's issuer, until the benchmark ends.
func allocate(b *testing.B, kit *turnkit.Kit) net.PacketConn {
	b.Helper()
	app, err := kit.CreateApp(context.Background(), turnkit.NewApp{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	cred, err := kit.Issuer().Issue(context.Background(), &turnkit.CredentialRequest{AppID: app.App.ID, KeyID: app.KeyID})
	if err != nil {
		b.Fatal(err)
	}
	client := turntest.Dial(b, "udp", kit.Relay().UDPAddrs()[0].String(), nil, cred.Username, cred.Password, kit.Relay().Realm())
	rc, err := turntest.Allocate(b, client)
	if err != nil {
		b.Fatal(err)
	}
	return rc
}

// benchRounds is how many pairs of runs BenchmarkRelayMetrics makes,
// alternating off and on, so that a noisy machine weighs on both alike.
const benchRounds = 4

// BenchmarkRelayMetrics sends 200-byte datagrams as fast as one pion
// client can through a Kit's relay (ChannelData after the first send) to
// a peer, with metrics off and with metrics on: a Collector registered and
// scraped through promhttp every 100 ms from another goroutine. It runs
// benchRounds pairs, off then on, in one run. It reports the delivered
// and sent rates, the process's CPU time per delivered packet (client,
// relay, peer and scraper together) and the scrapes made. The ratios
// on/off of delivered/s and of cpu-ns/delivered are the cost of metrics:
//
//	go test -run '^$' -bench RelayMetrics ./metrics/
func BenchmarkRelayMetrics(b *testing.B) {
	for i := range 2 * benchRounds {
		on := i%2 == 1
		name := "metrics=off"
		if on {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) {
			kit := openKit(b, func(c *turnkit.Config) { c.Relay.AllocationBitrate = -1 }) // measure the relay, not the cap
			peer := newCountingPeer(b)
			rc := allocate(b, kit)
			payload := make([]byte, 200)
			if _, err := rc.WriteTo(payload, peer.pc.LocalAddr()); err != nil {
				b.Fatal(err)
			}
			peer.settle()

			var scrapes atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if on {
				reg := prometheus.NewRegistry()
				reg.MustRegister(metrics.NewCollector(kit))
				h := metricsHandler(reg)
				wg.Add(1)
				go func() {
					defer wg.Done()
					t := time.NewTicker(100 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							rec := httptest.NewRecorder()
							h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
							if rec.Code != http.StatusOK {
								b.Errorf("scrape: %d", rec.Code)
								return
							}
							scrapes.Add(1)
						}
					}
				}()
			}

			before := peer.packets.Load()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			cpu0 := cpuTime(b)
			start := time.Now()
			for range b.N {
				_, _ = rc.WriteTo(payload, peer.pc.LocalAddr())
			}
			elapsed := time.Since(start)
			b.StopTimer()
			close(stop)
			wg.Wait()
			got := peer.settle() - before
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(got)/float64(b.N), "delivered/sent")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sent/s")
			b.ReportMetric(float64(got)/elapsed.Seconds(), "delivered/s")
			b.ReportMetric(float64(scrapes.Load()), "scrapes")
			if got > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(got), "cpu-ns/delivered")
			}
		})
	}
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScrape measures one scrape of a Kit's collector through
// promhttp (the Stats snapshot, with one live allocation on the relay,
// and the text encoding): what a scrape costs the process, off the
// packet path.
func BenchmarkScrape(b *testing.B) {
	kit := openKit(b, nil)
	allocate(b, kit)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(kit))
	h := metricsHandler(reg)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("scrape: %d", rec.Code)
		}
	}
}
