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

	"golang.org/x/time/rate"

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
	rc := &relayPacketConn{PacketConn: pc, srv: s, advertised: advertised, meter: !s.cfg.DisableMetering}
	if bps := s.cfg.AllocationBitrate; bps > 0 {
		bytesPerSec := float64(bps) / 8
		burst := max(int(bytesPerSec/10), 64<<10)
		rc.toPeerCap = rate.NewLimiter(rate.Limit(bytesPerSec), burst)
		rc.toClientCap = rate.NewLimiter(rate.Limit(bytesPerSec), burst)
	}
	rc.perms.Store(&[]netip.Addr{})
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
// payload they pass, with atomic counters: no lock, no allocation and no
// map lookup per packet.
type relayPacketConn struct {
	net.PacketConn
	srv        *Server
	advertised netip.AddrPort
	meter      bool
	closeOnce  sync.Once

	// toPeerCap and toClientCap enforce AllocationBitrate; nil without a
	// cap.
	toPeerCap, toClientCap *rate.Limiter

	toPeer   atomic.Int64 // payload bytes the socket's write accepted
	toClient atomic.Int64 // payload bytes read from permitted peers, handed to pion for the client
	// toPeerPkts and toClientPkts count the packets of toPeer and
	// toClient.
	toPeerPkts, toClientPkts atomic.Int64
	// perms mirrors the allocation's permissions (peer IPs), copied on
	// write from pion's permission events, so ReadFrom can tell a packet
	// pion will forward to the client from one it will drop.
	perms atomic.Pointer[[]netip.Addr]

	chMu     sync.Mutex          // guards channels
	channels map[uint16]struct{} // bound channel numbers, for the channel cap
}

// bindChannel records a channel binding (on = true) or its removal.
func (c *relayPacketConn) bindChannel(number uint16, on bool) {
	c.chMu.Lock()
	defer c.chMu.Unlock()
	if c.channels == nil {
		c.channels = make(map[uint16]struct{})
	}
	if on {
		c.channels[number] = struct{}{}
	} else {
		delete(c.channels, number)
	}
}

// channelRoom reports whether the allocation may bind channel number: it
// is already bound (a refresh), or the cap leaves room.
func (c *relayPacketConn) channelRoom(number uint16, max int) bool {
	c.chMu.Lock()
	defer c.chMu.Unlock()
	_, bound := c.channels[number]
	return bound || len(c.channels) < max
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

func (c *relayPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap, ok := addrPortOf(addr)
	if !ok || !c.srv.peers.sendable(ap) {
		c.srv.stats.peerRefused.Add(1)
		return 0, errPeerRefused
	}
	if c.toPeerCap != nil && !c.toPeerCap.AllowN(time.Now(), len(p)) {
		c.srv.stats.overCap.Add(1)
		return len(p), nil // dropped, as a congested link would
	}
	n, err := c.PacketConn.WriteTo(p, addr)
	if c.meter && n > 0 {
		c.toPeer.Add(int64(n))
		c.toPeerPkts.Add(1)
	}
	return n, err
}

func (c *relayPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if ap, ok := addrPortOf(addr); ok && c.srv.peers.sendable(ap) {
			permitted := c.permitted(ap.Addr())
			if permitted && c.toClientCap != nil && !c.toClientCap.AllowN(time.Now(), n) {
				c.srv.stats.overCap.Add(1)
				continue // dropped before it reaches the client
			}
			if !permitted {
				c.srv.stats.noPermission.Add(1) // pion drops it
			} else if c.meter {
				c.toClient.Add(int64(n))
				c.toClientPkts.Add(1)
			}
			return n, addr, nil
		}
		c.srv.stats.peerRefused.Add(1)
	}
}

// permitted reports whether the allocation holds a permission for ip.
func (c *relayPacketConn) permitted(ip netip.Addr) bool {
	for _, a := range *c.perms.Load() {
		if a == ip {
			return true
		}
	}
	return false
}

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
