//go:build linux

package relay_test

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"unsafe"

	"github.com/turnkit/turnkit/internal/turntest"
)

// spoofer sends datagrams from a socket on 127.0.0.1 with any loopback
// source address it likes, by naming the source in an IP_PKTINFO control
// message: on loopback, every 127.0.0.0/8 address is local, so the kernel
// accepts it. Replies go to addresses nobody listens on and are lost, as
// they would be on the way to a spoofing attacker's victims.
type spoofer struct {
	conn *net.UDPConn
	oob  []byte
	info *syscall.Inet4Pktinfo
}

func newSpoofer(t testing.TB) *spoofer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	oob := make([]byte, syscall.CmsgSpace(syscall.SizeofInet4Pktinfo))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = syscall.IPPROTO_IP, syscall.IP_PKTINFO
	h.SetLen(syscall.CmsgLen(syscall.SizeofInet4Pktinfo))
	return &spoofer{conn: conn, oob: oob, info: (*syscall.Inet4Pktinfo)(unsafe.Pointer(&oob[syscall.CmsgLen(0)]))}
}

// send sends msg to dst from src.
func (s *spoofer) send(t testing.TB, src netip.Addr, dst *net.UDPAddr, msg []byte) {
	s.info.Spec_dst = src.As4()
	if _, _, err := s.conn.WriteMsgUDP(msg, s.oob, dst); err != nil {
		t.Fatalf("spoofed send from %s: %v", src, err)
	}
}

// TestSpoofedSources floods a relay with one smallest valid Allocate from
// each of 20,000 spoofed addresses (127.1.0.0 onwards), in windows of 500
// so that no datagram is lost to a full socket buffer. Every Allocate is
// answered (a request pays for its own 401), the reflected bytes are at most
// 3 times the bytes received, and the relay's live heap does not grow with
// the number of sources: admission keeps no state per source.
func TestSpoofedSources(t *testing.T) {
	const sources, window = 20000, 500
	s := newRelay(t, nil)
	dst := s.UDPAddrs()[0].(*net.UDPAddr)
	sp := newSpoofer(t)
	msg := allocateRequest(false)
	heapBefore := liveHeap()
	base := netip.MustParseAddr("127.1.0.0").As4()
	for i := range sources {
		a := base
		a[2], a[3] = byte(i>>8), byte(i)
		sp.send(t, netip.AddrFrom4(a), dst, msg)
		if i%window == window-1 || i == sources-1 {
			want := uint64(i + 1)
			turntest.Eventually(t, "the relay to answer the window", func() bool {
				st := s.Stats()
				return st.UnauthReplies+st.UnauthDropped+st.UnauthOverRate >= want
			})
		}
	}
	heapAfter := liveHeap()
	st := s.Stats()
	received := uint64(sources * len(msg))
	t.Logf("%d sources: %d bytes received, %d reflected (%.3fx), %d replies, %d held back",
		sources, received, st.UnauthReplyBytes, float64(st.UnauthReplyBytes)/float64(received), st.UnauthReplies, st.UnauthDropped+st.UnauthOverRate)
	t.Logf("live heap: %d KiB before, %d KiB after (%+d KiB)", heapBefore>>10, heapAfter>>10, (int64(heapAfter)-int64(heapBefore))>>10)
	if st.UnauthReplies != sources {
		t.Errorf("%d of %d first Allocates answered", st.UnauthReplies, sources)
	}
	if st.UnauthReplyBytes > 3*received {
		t.Errorf("%d bytes reflected for %d received", st.UnauthReplyBytes, received)
	}
	if grown := int64(heapAfter) - int64(heapBefore); grown > 512<<10 {
		t.Errorf("the live heap grew by %d KiB for %d sources", grown>>10, sources)
	}
}
