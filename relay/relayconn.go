package relay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/pion/turn/v5"
)

// errPeerRefused is returned by a relayed socket's WriteTo for a peer the
// peer rules refuse.
var errPeerRefused = errors.New("turnkit: peer address refused by the relay's peer policy")

// addressGenerator creates the relayed sockets of allocations and wraps them
// so every packet in and out passes the peer rules.
type addressGenerator struct {
	srv *Server
	tcp turn.RelayAddressGeneratorStatic // for RFC 6062 TCP allocations
}

var _ turn.RelayAddressGenerator = (*addressGenerator)(nil)

func (g *addressGenerator) Validate() error { return g.tcp.Validate() }

// AllocatePacketConn opens a relayed UDP socket on the bind address.
func (g *addressGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	s := g.srv
	bind := net.JoinHostPort(s.cfg.RelayBindIP.String(), strconv.Itoa(conf.RequestedPort))
	pc, err := net.ListenPacket(conf.Network, bind)
	if err != nil {
		return nil, nil, fmt.Errorf("relay: open relayed socket on %s: %w", bind, err)
	}
	if s.cfg.RelayBufferBytes > 0 {
		if uc, ok := pc.(*net.UDPConn); ok {
			setBuffers(uc, s.cfg.RelayBufferBytes)
		}
	}
	local, ok := addrPortOf(pc.LocalAddr())
	if !ok {
		_ = pc.Close()
		return nil, nil, fmt.Errorf("relay: relayed socket has no IP address: %s", pc.LocalAddr())
	}
	advertised := netip.AddrPortFrom(s.cfg.RelayIP, local.Port())
	s.peers.addLive(advertised)
	s.relayConns.Add(1)
	rc := &relayPacketConn{PacketConn: pc, srv: s, advertised: advertised}
	return rc, net.UDPAddrFromAddrPort(advertised), nil
}

// AllocateListener opens a relayed TCP listener (RFC 6062) whose accepted
// connections pass the peer rules.
func (g *addressGenerator) AllocateListener(conf turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	ln, addr, err := g.tcp.AllocateListener(conf)
	if err != nil {
		return nil, nil, err
	}
	return &relayListener{Listener: ln, srv: g.srv}, addr, nil
}

// AllocateConn dials a peer for a TCP allocation if the peer rules allow it.
func (g *addressGenerator) AllocateConn(conf turn.AllocateConnConfig) (net.Conn, error) {
	ap, ok := addrPortOf(conf.RemoteAddr)
	if !ok || !g.srv.peers.sendable(ap) {
		g.srv.stats.peerRefused.Add(1)
		return nil, errPeerRefused
	}
	return g.tcp.AllocateConn(conf)
}

// relayPacketConn is an allocation's relayed UDP socket. WriteTo refuses
// peers the rules refuse; ReadFrom drops their packets.
type relayPacketConn struct {
	net.PacketConn
	srv        *Server
	advertised netip.AddrPort
	closeOnce  sync.Once
}

func (c *relayPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap, ok := addrPortOf(addr)
	if !ok || !c.srv.peers.sendable(ap) {
		c.srv.stats.peerRefused.Add(1)
		return 0, errPeerRefused
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *relayPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if ap, ok := addrPortOf(addr); ok && c.srv.peers.sendable(ap) {
			return n, addr, nil
		}
		c.srv.stats.peerRefused.Add(1)
	}
}

func (c *relayPacketConn) Close() error {
	err := c.PacketConn.Close()
	c.closeOnce.Do(func() {
		c.srv.peers.removeLive(c.advertised)
		c.srv.relayConns.Done()
	})
	return err
}

// relayListener is an allocation's relayed TCP listener; it closes
// connections from refused peers at once.
type relayListener struct {
	net.Listener
	srv *Server
}

func (l *relayListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ap, ok := addrPortOf(conn.RemoteAddr()); ok && l.srv.peers.sendable(ap) {
			return conn, nil
		}
		l.srv.stats.peerRefused.Add(1)
		_ = conn.Close()
	}
}
