package relay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	// listener is the UDP listener whose allocations this generator
	// opens, for the fast path (fastpath.go); nil on TCP and TLS
	// listeners, whose clients it does not serve.
	listener *guardedPacketConn
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
	rc := &relayPacketConn{PacketConn: pc, srv: s, advertised: advertised, meter: !s.cfg.DisableMetering}
	rc.udp, _ = pc.(*net.UDPConn)
	if !s.cfg.DisableFastPath && g.listener != nil {
		rc.listener = g.listener
		rc.raw, rc.sender = newRawSocket(rc.udp), newRawSender()
		rc.receiver = newRawReceiver(rc.raw)
	}
	if bps := s.cfg.AllocationBitrate; bps > 0 {
		bytesPerSec := float64(bps) / 8
		burst := max(int(bytesPerSec/10), 64<<10)
		now := time.Now()
		rc.toPeerCap = newTokenBucket(bytesPerSec, burst, now)
		rc.toClientCap = newTokenBucket(bytesPerSec, burst, now)
	}
	rc.perms.Store(&[]netip.Addr{})
	rc.chans.Store(&[]channelBinding{})
	s.peers.addLive(advertised)
	s.registerConn(rc)
	s.relayConns.Add(1)
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
// peers the rules refuse; ReadFrom drops their packets. Both meter the
// payload they pass, with atomic counters, and apply the bitrate cap with
// a lock-free token bucket: no lock, no allocation and no map lookup per
// packet. On UDP allocations ReadFrom also relays ChannelData to the
// client itself (fastpath.go).
type relayPacketConn struct {
	net.PacketConn
	udp        *net.UDPConn // PacketConn, read without allocating; nil if it is not one
	srv        *Server
	advertised netip.AddrPort
	meter      bool
	closeOnce  sync.Once

	// toPeerCap and toClientCap enforce AllocationBitrate; nil without a
	// cap.
	toPeerCap, toClientCap *tokenBucket

	// listener is the UDP listener the allocation is served on, nil on
	// TCP and TLS and with the fast path off; client is set once pion has
	// created the allocation (fastAllocated); chans mirrors the channel
	// bindings, copied on write from pion's channel events.
	listener *guardedPacketConn
	raw      *rawSocket   // the socket, for the listener's raw sends to peers; nil without the fast path
	sender   *rawSender   // this socket's reader's raw sends to the client; nil without the fast path
	receiver *rawReceiver // this socket's reader's raw receives; nil without the fast path or off Linux
	client   atomic.Pointer[allocationClient]
	chans    atomic.Pointer[[]channelBinding]
	fastCounters

	toPeer   atomic.Int64 // payload bytes the socket's write accepted
	toClient atomic.Int64 // payload bytes read from permitted peers for the client (handed to pion, or sent by the fast path)
	// toPeerPkts and toClientPkts count the packets of toPeer and
	// toClient.
	toPeerPkts, toClientPkts atomic.Int64
	// perms mirrors the allocation's permissions (peer IPs), copied on
	// write from pion's permission events, so ReadFrom can tell a packet
	// pion will forward to the client from one it will drop.
	perms atomic.Pointer[[]netip.Addr]
}

// permissionRoom reports whether adding permissions for ips stays within
// max peer IPs.
func (c *relayPacketConn) permissionRoom(ips []netip.AddrPort, max int) bool {
	have := *c.perms.Load()
	n := len(have)
	seen := make(map[netip.Addr]bool, len(ips))
	for _, ap := range ips {
		ip := ap.Addr()
		if seen[ip] {
			continue
		}
		seen[ip] = true
		if !containsAddr(have, ip) {
			n++
		}
	}
	return n <= max
}

func containsAddr(list []netip.Addr, ip netip.Addr) bool {
	for _, a := range list {
		if a == ip {
			return true
		}
	}
	return false
}

// WriteTo sends p to a peer the rules allow, within the bitrate cap, and
// meters it.
func (c *relayPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap, ok := addrPortOf(addr)
	if !ok {
		c.srv.stats.peerRefused.Add(1)
		return 0, errPeerRefused
	}
	return c.writeTo(p, addr, ap, nil)
}

// writeTo is WriteTo to addr, whose address addrPortOf gives as ap,
// sending with s's raw sendto when s is set (the fast path's sends,
// rawudp_linux.go) and through the socket's WriteTo otherwise.
func (c *relayPacketConn) writeTo(p []byte, addr net.Addr, ap netip.AddrPort, s *rawSender) (int, error) {
	if !c.srv.peers.sendable(ap) {
		c.srv.stats.peerRefused.Add(1)
		return 0, errPeerRefused
	}
	if c.toPeerCap != nil && !c.toPeerCap.AllowN(time.Now(), len(p)) {
		c.srv.stats.overCap.Add(1)
		return len(p), nil // dropped, as a congested link would
	}
	n, err := 0, errRawAddr
	if s != nil && c.raw != nil {
		n, err = s.sendTo(c.raw, p, ap)
	}
	if err == errRawAddr {
		n, err = c.PacketConn.WriteTo(p, addr)
	}
	if c.meter && n > 0 {
		c.toPeer.Add(int64(n))
		c.toPeerPkts.Add(1)
	}
	return n, err
}

// ReadFrom returns the next datagram from a peer the rules allow, for pion
// to relay to the client, and relays to the client itself those the fast
// path takes (forwardToClient).
func (c *relayPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, from, addr, err := c.read(p)
		if err != nil {
			return n, addr, err
		}
		ap := unmapAP(from)
		if !c.srv.peers.sendable(ap) {
			c.srv.stats.peerRefused.Add(1)
			continue
		}
		permitted := c.permitted(ap.Addr())
		if permitted && c.toClientCap != nil && !c.toClientCap.AllowN(time.Now(), n) {
			c.srv.stats.overCap.Add(1)
			continue // dropped before it reaches the client
		}
		if !permitted {
			c.srv.stats.noPermission.Add(1) // pion drops it, or relays it on a channel
		} else {
			if c.meter {
				c.toClient.Add(int64(n))
				c.toClientPkts.Add(1)
			}
			if c.listener != nil && c.forwardToClient(p, n, ap) {
				continue
			}
		}
		if addr == nil {
			addr = net.UDPAddrFromAddrPort(from) // what net.UDPConn.ReadFrom returns
		}
		return n, addr, nil
	}
}

// read reads one datagram: into a netip.AddrPort without allocating, with
// a raw recvfrom on the fast path or from a *net.UDPConn (addr is then
// nil), else through ReadFrom.
func (c *relayPacketConn) read(p []byte) (n int, from netip.AddrPort, addr net.Addr, err error) {
	if c.receiver != nil {
		n, from, err = c.receiver.readFrom(p)
		return n, from, nil, err
	}
	if c.udp != nil {
		n, from, err = c.udp.ReadFromUDPAddrPort(p)
		return n, from, nil, err
	}
	n, addr, err = c.PacketConn.ReadFrom(p)
	if err == nil {
		var ok bool
		if from, ok = addrPortOf(addr); !ok {
			from = netip.AddrPort{} // refused by the peer rules as an invalid address
		}
	}
	return n, from, addr, err
}

// permitted reports whether the allocation holds a permission for ip.
func (c *relayPacketConn) permitted(ip netip.Addr) bool { return containsAddr(*c.perms.Load(), ip) }

// setPermission adds or removes ip from the permission mirror.
func (c *relayPacketConn) setPermission(ip netip.Addr, on bool) {
	ip = ip.Unmap().WithZone("")
	for {
		old := c.perms.Load()
		next := make([]netip.Addr, 0, len(*old)+1)
		for _, a := range *old {
			if a != ip {
				next = append(next, a)
			}
		}
		if on {
			next = append(next, ip)
		}
		if c.perms.CompareAndSwap(old, &next) {
			return
		}
	}
}

func (c *relayPacketConn) Close() error {
	err := c.PacketConn.Close()
	c.closeOnce.Do(func() {
		c.fastForgotten()
		c.srv.peers.removeLive(c.advertised)
		c.srv.unregisterConn(c)
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
