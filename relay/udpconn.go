package relay

// This file wraps the UDP listeners: every datagram read passes the guard,
// and every unauthenticated reply written passes admission.

import "net"

// guardedPacketConn is a UDP listener whose reads pass the guard and whose
// unauthenticated replies pass admission. Relayed data (ChannelData from
// the client, ChannelData and Data indications to it) is told apart by its
// first bytes and costs no more than those comparisons.
type guardedPacketConn struct {
	net.PacketConn
	srv   *Server
	admit *admission // nil when admission is off
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
