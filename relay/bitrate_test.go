package relay_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// TestAllocationBitrate sends at twice the cap through one allocation and
// measures, at the receiving listener, the rate in steady state (after the
// burst): it is within 10 % of the cap.
func TestAllocationBitrate(t *testing.T) {
	const capBits = 2_000_000 // 250 kB/s
	s := newRelay(t, func(c *relay.Config) { c.AllocationBitrate = capBits })
	pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var mu sync.Mutex
	type arrival struct {
		at time.Time
		n  int
	}
	var got []arrival
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, arrival{time.Now(), n})
			mu.Unlock()
		}
	}()
	user, pass := mint("capped", time.Minute)
	rc, err := allocate(t, dial(t, s, user, pass))
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1000)
	start := time.Now()
	const duration = 3 * time.Second
	for i := 0; time.Since(start) < duration; i++ {
		_, _ = rc.WriteTo(payload, pc.LocalAddr())
		if i%10 == 9 { // 10 packets per 20 ms: 500 kB/s, twice the cap
			if d := time.Until(start.Add(time.Duration(i+1) * 2 * time.Millisecond)); d > 0 {
				time.Sleep(d)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	from, to := start.Add(time.Second), start.Add(duration)
	var bytes int
	for _, a := range got {
		if !a.at.Before(from) && a.at.Before(to) {
			bytes += a.n
		}
	}
	rate := float64(bytes) / to.Sub(from).Seconds()
	want := float64(capBits) / 8
	t.Logf("steady-state rate at the listener: %.0f B/s, cap %.0f B/s, dropped %d packets", rate, want, s.Stats().OverCap)
	if rate < 0.9*want || rate > 1.1*want {
		t.Fatalf("rate %.0f B/s is not within 10%% of the cap %.0f B/s", rate, want)
	}
	if s.Stats().OverCap == 0 {
		t.Fatal("no packet counted over the cap")
	}
}
