package relay

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// TestRelayedReadDrops: a relayed socket drops a datagram from a peer the
// rules refuse and one over the allocation's cap, each counted and
// neither metered nor relayed; a datagram from a peer the rules allow but
// the allocation holds no permission for goes to pion unmetered, counted
// as such.
func TestRelayedReadDrops(t *testing.T) {
	p := newPacketPath(1e12)
	buf := make([]byte, 1600)
	payload := make([]byte, 1000)
	read := func(from *net.UDPAddr) (int, net.Addr, error) {
		p.relayed.msg, p.relayed.from, p.relayed.armed = payload, from, true
		return p.conn.ReadFrom(buf)
	}
	unchanged := func(what string) {
		t.Helper()
		if p.conn.toClient.Load() != 0 || p.conn.toClientPkts.Load() != 0 || p.conn.fastToClient.Load() != 0 || p.listener.written != 0 {
			t.Fatalf("%s: metered %d bytes, relayed %d datagrams, %d bytes written to the client; want none",
				what, p.conn.toClient.Load(), p.conn.fastToClient.Load(), p.listener.written)
		}
	}

	// The relay's own host, at a port no allocation holds.
	if _, _, err := read(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err != errDrained {
		t.Fatalf("from a refused peer: ReadFrom %v, want the datagram dropped", err)
	}
	if got := p.srv.stats.peerRefused.Load(); got != 1 {
		t.Fatalf("PeerRefused %d, want 1", got)
	}
	unchanged("refused peer")

	// Allowed by the rules, but no permission: pion gets it, and drops it.
	other := &net.UDPAddr{IP: net.IPv4(8, 8, 8, 8), Port: 53}
	n, addr, err := read(other)
	if n != len(payload) || err != nil || addr.String() != other.String() {
		t.Fatalf("from a peer without a permission: ReadFrom %d, %v, %v; want it handed to pion", n, addr, err)
	}
	if got := p.srv.stats.noPermission.Load(); got != 1 {
		t.Fatalf("NoPermission %d, want 1", got)
	}
	unchanged("peer without a permission")

	// Over the cap: a bucket of 100 bytes refuses a 1,000-byte datagram.
	p.conn.toClientCap = newTokenBucket(100, 100, time.Now())
	if _, _, err := read(p.peer); err != errDrained {
		t.Fatalf("over the cap: ReadFrom %v, want the datagram dropped", err)
	}
	if got := p.srv.stats.overCap.Load(); got != 1 {
		t.Fatalf("OverCap %d, want 1", got)
	}
	unchanged("over the cap")
}

// TestRelayedWriteRefusals: a relayed socket's WriteTo refuses an address
// that is not an IP address and one the peer rules refuse, sending
// nothing, counting each; so does a TCP allocation's dial.
func TestRelayedWriteRefusals(t *testing.T) {
	p := newPacketPath(1e12)
	payload := make([]byte, 100)
	for _, addr := range []net.Addr{
		&net.UnixAddr{Name: "/tmp/peer", Net: "unixgram"},
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, // the relay's host, not a live relayed address
		&net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9},  // refused by the default policy
	} {
		if n, err := p.conn.WriteTo(payload, addr); n != 0 || !errors.Is(err, errPeerRefused) {
			t.Fatalf("WriteTo %v: %d, %v; want errPeerRefused", addr, n, err)
		}
	}
	if got := p.srv.stats.peerRefused.Load(); got != 3 {
		t.Fatalf("PeerRefused %d, want 3", got)
	}
	if p.relayed.written != 0 || p.conn.toPeer.Load() != 0 || p.conn.toPeerPkts.Load() != 0 {
		t.Fatalf("%d bytes written, %d metered; want none", p.relayed.written, p.conn.toPeer.Load())
	}

	g := &addressGenerator{srv: p.srv}
	conn, err := g.AllocateConn(turn.AllocateConnConfig{Network: "tcp4", RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}})
	if conn != nil || !errors.Is(err, errPeerRefused) {
		t.Fatalf("AllocateConn to the relay's host: %v, %v; want errPeerRefused", conn, err)
	}
	if got := p.srv.stats.peerRefused.Load(); got != 4 {
		t.Fatalf("PeerRefused %d, want 4", got)
	}
}

// TestRelayListenerRefuses: a TCP allocation's relayed listener closes a
// connection from a refused peer at once, counting it, and returns one
// from an allowed peer.
func TestRelayListenerRefuses(t *testing.T) {
	relayIP := netip.MustParseAddr("127.0.0.1")
	policy, _ := NewPeerPolicy([]string{"127.0.0.3"}, nil)
	s := &Server{}
	s.peers = newPeerRules(policy, []netip.Addr{relayIP})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &relayListener{Listener: ln, srv: s}
	defer rl.Close()

	refused, err := net.Dial("tcp4", ln.Addr().String()) // from 127.0.0.1: the relay's own host
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 3)}}
	allowed, err := d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer allowed.Close()

	conn, err := rl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.RemoteAddr().String() != allowed.LocalAddr().String() {
		t.Fatalf("Accept returned the connection from %v, want %v", conn.RemoteAddr(), allowed.LocalAddr())
	}
	if got := s.stats.peerRefused.Load(); got != 1 {
		t.Fatalf("PeerRefused %d, want 1", got)
	}
	_ = refused.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := refused.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the refused connection read %d, %v; want it closed by the relay", n, err)
	}
}
