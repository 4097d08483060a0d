package relay

// This file wraps the UDP listeners: every datagram read passes the guard,
// and every unauthenticated reply written passes admission; ChannelData on
// bound channels takes the fast path (fastpath.go).

import (
	"net"
	"sync"
)

// guardedPacketConn is a UDP listener whose reads pass the guard and whose
// unauthenticated replies pass admission. Relayed data (ChannelData from
// the client, ChannelData and Data indications to it) is told apart by its
// first bytes and costs no more than those comparisons; ChannelData from a
// client on a bound channel is relayed to the peer here, without pion.
type guardedPacketConn struct {
	net.PacketConn
	srv   *Server
	admit *admission // nil when admission is off
	fast  bool       // the fast path is on
	// raw is the socket beneath, for the fast path's raw sends to
	// clients; sender is the read loop's, for its raw sends to peers.
	// Both nil without the fast path or off Linux.
	raw    *rawSocket
	sender *rawSender

	// clients holds the relayed sockets of the allocations made on this
	// listener, by the client's address (netip.AddrPort, unmapped): the
	// allocation manager's map of pion, mirrored for the fast path. A
	// sync.Map, so that a read is a lock-free load.
	clients sync.Map
}

// WriteTo drops an unauthenticated reply that admission refuses.
func (c *guardedPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.admit != nil && unauthenticatedResponse(p) && !c.admit.allow(addr, len(p)) {
		return len(p), nil // dropped, as a lossy path would
	}
	return c.PacketConn.WriteTo(p, addr)
}

// ReadFrom returns the next datagram that passes the guard, after crediting
// STUN requests to their source.
func (c *guardedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		// pion drops a datagram that fills its buffer (possibly truncated):
		// the fast path leaves those to pion as well.
		if c.fast && n < len(p) && c.forwardFromClient(p[:n], addr) {
			continue
		}
		if c.admit != nil && isRequest(p, n) {
			c.admit.received(addr, n)
		}
		switch v, resp := c.srv.inspect(p[:n], addr); v {
		case guardPass:
			return n, addr, nil
		case guardReply:
			_, _ = c.PacketConn.WriteTo(resp, addr)
		}
	}
}
