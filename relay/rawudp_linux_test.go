//go:build linux

package relay

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestRawSend sends with the raw sender from an IPv4 socket and from a
// dual-stack IPv6 one: each datagram arrives whole, from the sending
// socket, with no allocation; a destination with a zone, or of a family
// the socket cannot reach, is left to the caller (errRawAddr).
func TestRawSend(t *testing.T) {
	senders := []struct {
		network, addr string
	}{{"udp4", "127.0.0.1:0"}, {"udp", "[::]:0"}} // the second is dual-stack
	var to netip.AddrPort
	for _, tc := range senders {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		to = rx.LocalAddr().(*net.UDPAddr).AddrPort()
		to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
		tx, err := net.ListenPacket(tc.network, tc.addr)
		if err != nil {
			t.Logf("%s: %v; skipped", tc.network, err)
			continue
		}
		defer tx.Close()
		sock := newRawSocket(tx.(*net.UDPConn))
		if sock == nil {
			t.Fatalf("%s: no raw socket", tc.network)
		}
		s := newRawSender()
		buf := make([]byte, 2048)
		for _, size := range []int{0, 1, 1000, 1500} {
			msg := bytes.Repeat([]byte{byte(size)}, size)
			if n, err := s.sendTo(sock, msg, to); n != size || err != nil {
				t.Fatalf("%s: sendTo %d bytes: %d, %v", tc.network, size, n, err)
			}
			_ = rx.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, from, err := rx.ReadFromUDPAddrPort(buf)
			if err != nil || !bytes.Equal(buf[:n], msg) || from.Port() != uint16(tx.LocalAddr().(*net.UDPAddr).Port) {
				t.Fatalf("%s: %d bytes from %v, %v; want %d from port %d", tc.network, n, from, err, size, tx.LocalAddr().(*net.UDPAddr).Port)
			}
		}
		payload := make([]byte, 1000)
		if n := testing.AllocsPerRun(100, func() { _, _ = s.sendTo(sock, payload, to) }); n != 0 {
			t.Fatalf("%s: %v allocations per send", tc.network, n)
		}
		if _, err := s.sendTo(sock, payload, netip.MustParseAddrPort("[fe80::1%lo]:9")); err != errRawAddr {
			t.Fatalf("%s: a destination with a zone: %v, want errRawAddr", tc.network, err)
		}
	}
	v4, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	defer v4.Close()
	if _, err := newRawSender().sendTo(newRawSocket(v4.(*net.UDPConn)), []byte("x"), netip.MustParseAddrPort("[::1]:9")); err != errRawAddr {
		t.Fatalf("an IPv6 destination on an IPv4 socket: %v, want errRawAddr", err)
	}
	if _, err := newRawSender().sendTo(nil, []byte("x"), to); err != errRawAddr {
		t.Fatalf("no socket: %v, want errRawAddr", err)
	}
}

// TestRawReceive reads with the raw receiver: datagrams of every size
// arrive whole with their source, an IPv4 source on a dual-stack socket
// as ::ffff:a.b.c.d (as net reads it), the read waits in the poller until
// a datagram comes, and the read deadline and Close end it.
func TestRawReceive(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"udp4", "127.0.0.1:0"}, {"udp", "[::]:0"}} {
		pc, err := net.ListenPacket(tc.network, tc.addr)
		if err != nil {
			t.Logf("%s: %v; skipped", tc.network, err)
			continue
		}
		rx := pc.(*net.UDPConn)
		r := newRawReceiver(newRawSocket(rx))
		if r == nil {
			t.Fatalf("%s: no raw receiver", tc.network)
		}
		tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rx.LocalAddr().(*net.UDPAddr).Port}
		buf := make([]byte, 1600)
		for _, size := range []int{0, 1, 999, 1600} {
			msg := bytes.Repeat([]byte{byte(size + 1)}, size)
			go func() { _, _ = tx.WriteTo(msg, to) }() // the read below waits for it
			_ = rx.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, from, err := r.readFrom(buf)
			if err != nil || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("%s: %d-byte datagram: read %d, %v", tc.network, size, n, err)
			}
			want := tx.LocalAddr().(*net.UDPAddr).AddrPort()
			if unmapAP(from) != unmapAP(want) || (tc.network == "udp" && !from.Addr().Is4In6()) {
				t.Fatalf("%s: from %v, want %v", tc.network, from, want)
			}
		}
		_ = rx.SetReadDeadline(time.Unix(1, 0))
		if _, _, err := r.readFrom(buf); err == nil {
			t.Fatalf("%s: read past the deadline succeeded", tc.network)
		}
		_ = rx.SetReadDeadline(time.Time{})
		done := make(chan error, 1)
		go func() { _, _, err := r.readFrom(buf); done <- err }()
		_ = rx.Close()
		if err := <-done; err == nil {
			t.Fatalf("%s: read on a closed socket succeeded", tc.network)
		}
		_ = tx.Close()
	}
}
