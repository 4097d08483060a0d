package relay_test

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// victimIP is the address a spoofed flood claims to come from.
const victimIP = "127.0.0.200"

// TestSpoofedFlood floods a relay with hand-built unauthenticated Allocates
// from 200 loopback addresses, and with 200 Allocates a second "from" a
// victim's address while the victim allocates. Each source gets back at
// most 3 times the bytes it sent, the relay's heap does not grow with the
// number of sources, and every one of the victim's honest allocations
// succeeds with no retransmission.
func TestSpoofedFlood(t *testing.T) {
	s := newRelay(t, nil)
	relayAddr := s.UDPAddrs()[0]
	var sources []*unauthSource
	for i := range 200 {
		sources = append(sources, newUnauthSource(t, fmt.Sprintf("127.0.2.%d:0", 1+i)))
	}
	var spoofers []*unauthSource
	for range 4 {
		spoofers = append(spoofers, newUnauthSource(t, victimIP+":0"))
	}
	heapBefore := liveHeap()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // 200 Allocates a second from the victim's address
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				spoofers[i%len(spoofers)].send(t, relayAddr, allocateRequest(i%2 == 0))
			}
		}
	}()
	go func() { // 100 rounds of one Allocate from each of 200 sources
		defer wg.Done()
		// Each round waits until the relay has judged the one before, so
		// the flood runs as fast as the relay answers and no datagram is
		// lost to a full socket buffer: every drop is admission's.
		var judged uint64
		for round := range 100 {
			for _, u := range sources {
				u.send(t, relayAddr, allocateRequest(round%2 == 0))
			}
			judged += uint64(len(sources))
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if st := s.Stats(); st.UnauthReplies+st.UnauthDropped+st.UnauthOverRate >= judged {
					break
				}
				<-time.After(2 * time.Millisecond)
			}
		}
	}()
	var honest []*countingConn
	pace := time.NewTicker(100 * time.Millisecond) // the flood lasts a second
	for i := range 10 {
		c, cc, closeClient := newCountedClient(t, s, victimIP+":0", patientRTO)
		if err := allocateOnce(c); err != nil {
			t.Errorf("victim's allocation %d during the flood: %v", i, err)
		} else if n := cc.allocates.Load(); n != 2 {
			t.Errorf("victim's allocation %d took %d Allocate requests, want 2", i, n)
		}
		closeClient()
		honest = append(honest, cc)
		<-pace.C
	}
	pace.Stop()
	close(stop)
	wg.Wait()
	settleAll(append(sources, spoofers...))
	heapAfter := liveHeap()

	// Admission is per source IP: the victim's address sums its honest
	// client's requests and the spoofed ones.
	type tally struct{ sent, back int64 }
	perIP := map[string]*tally{}
	add := func(addr net.Addr, sent, back int64) {
		ip := addr.(*net.UDPAddr).IP.String()
		if perIP[ip] == nil {
			perIP[ip] = &tally{}
		}
		perIP[ip].sent += sent
		perIP[ip].back += back
	}
	var sent, back, spoofSent, spoofBack int64
	for _, u := range append(sources, spoofers...) {
		add(u.pc.LocalAddr(), u.sent.Load(), u.back.Load())
		sent += u.sent.Load()
		back += u.back.Load()
	}
	for _, u := range spoofers {
		spoofSent += u.sent.Load()
		spoofBack += u.back.Load()
	}
	for _, cc := range honest {
		add(cc.LocalAddr(), cc.sent.Load(), cc.unauth.Load())
	}
	worst, worstAt := 0.0, ""
	for ip, tl := range perIP {
		if r := float64(tl.back) / float64(tl.sent); r > worst {
			worst, worstAt = r, ip
		}
	}
	victim := perIP[victimIP]
	st := s.Stats()
	t.Logf("flood from %d addresses: %d bytes sent, %d reflected (%.3fx); worst source %.3fx",
		len(perIP), sent, back, float64(back)/float64(sent), worst)
	t.Logf("spoofed as the victim: %d bytes sent, %d reflected; the victim's address in all: %d received, %d sent without integrity (%.3fx)",
		spoofSent, spoofBack, victim.sent, victim.back, float64(victim.back)/float64(victim.sent))
	t.Logf("relay: %d unauthenticated replies (%d bytes), %d held back by the factor, %d by the relay-wide cap",
		st.UnauthReplies, st.UnauthReplyBytes, st.UnauthDropped, st.UnauthOverRate)
	t.Logf("live heap: %d KiB before, %d KiB after (%+d KiB)", heapBefore>>10, heapAfter>>10, (int64(heapAfter)-int64(heapBefore))>>10)
	if worst > 3 {
		t.Errorf("source %s got back %.3f times what it sent", worstAt, worst)
	}
	if float64(back) > 3*float64(sent) {
		t.Errorf("the flood got back %.3f times what it sent", float64(back)/float64(sent))
	}
	if grown := int64(heapAfter) - int64(heapBefore); grown > 1<<20 {
		t.Errorf("the live heap grew by %d KiB during a flood from 201 addresses", grown>>10)
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
