package relay_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// reusePort opens a UDP socket on addr with SO_REUSEPORT.
func reusePort(t *testing.T, addr string) net.PacketConn {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", addr)
	if err != nil {
		t.Fatalf("listen %s with SO_REUSEPORT: %v", addr, err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// TestReusePortSockets: two SO_REUSEPORT sockets on one port, opened by
// the caller, are both served, and the port has one URL. The kernel
// spreads clients over the sockets by a hash of their address, so with
// 16 clients from distinct ports one socket left unserved would fail
// about half of them (all 16 on one socket has probability 2^-15).
func TestReusePortSockets(t *testing.T) {
	first := reusePort(t, "127.0.0.1:0")
	second := reusePort(t, first.LocalAddr().String())
	s, err := relay.New(relay.Config{
		PacketConns: []net.PacketConn{first, second},
		Secrets:     relay.NewStaticSecrets("k1", testSecret),
		AllowPeers:  []string{"127.0.0.3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	port := portString(first.LocalAddr())
	if got := s.URLs(); len(got) != 2 || got[0] != "stun:127.0.0.1:"+port || got[1] != "turn:127.0.0.1:"+port+"?transport=udp" {
		t.Fatalf("URLs = %v, want one stun: and one turn: URL for port %s", got, port)
	}
	if got := s.UDPAddrs(); len(got) != 2 {
		t.Fatalf("UDPAddrs = %v, want both sockets", got)
	}
	peer := echoPeer(t)
	for i := range 16 {
		user, pass := mint(fmt.Sprintf("reuse%d", i), time.Minute)
		c := turntest.Dial(t, "udp", first.LocalAddr().String(), nil, user, pass, s.Realm())
		rc, err := allocate(t, c)
		if err != nil {
			t.Fatalf("client %d: allocate on the shared port: %v", i, err)
		}
		echoRounds(t, rc, peer, 2)
		if !strings.HasPrefix(rc.LocalAddr().String(), "127.0.0.1:") {
			t.Fatalf("client %d: relayed address %s", i, rc.LocalAddr())
		}
	}
	if got := s.Stats().Allocations; got != 16 {
		t.Fatalf("Allocations = %d, want 16", got)
	}
}
