package relay

// This file opens the relay's listeners, adopts the caller's sockets, and
// derives the relay's URLs and own addresses.

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
)

// listen opens the configured listeners and adopts the caller's sockets,
// in the order UDP, TCP, TLS, each with its addresses before its sockets.
func (s *Server) listen() error {
	for _, a := range s.cfg.UDPAddrs {
		pcs, err := listenUDP(a, s.cfg.UDPSocketsPerAddr)
		if err != nil {
			return fmt.Errorf("relay: listen udp %s (%d sockets): %w", a, s.cfg.UDPSocketsPerAddr, err)
		}
		for i, pc := range pcs {
			s.opened = append(s.opened, pc)
			s.addPacketConn(pc, i == 0)
		}
	}
	for _, pc := range s.cfg.PacketConns {
		s.addPacketConn(pc, true)
	}
	for _, a := range s.cfg.TCPAddrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("relay: listen tcp %s: %w", a, err)
		}
		s.opened = append(s.opened, ln)
		s.addListener(ln, "turn")
	}
	for _, ln := range s.cfg.Listeners {
		s.addListener(ln, "turn")
	}
	for _, a := range s.cfg.TLSAddrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("relay: listen tls %s: %w", a, err)
		}
		s.opened = append(s.opened, ln)
		s.addListener(tls.NewListener(ln, s.cfg.TLSConfig), "turns")
	}
	for _, ln := range s.cfg.TLSListeners {
		s.addListener(ln, "turns")
	}
	if len(s.packetConns) > 0 {
		s.urls = append([]string{"stun:" + s.hostPort(s.packetConns[0].LocalAddr())}, s.urls...)
	}
	return nil
}

// addPacketConn serves a UDP socket, the relay's or the caller's. Only
// the first of the relay's sockets on one of UDPAddrs is reported (in
// UDPAddrs and SocketBuffers): the others share its address.
func (s *Server) addPacketConn(pc net.PacketConn, report bool) {
	s.packetConns = append(s.packetConns, pc)
	if report {
		s.udpAddrs = append(s.udpAddrs, pc.LocalAddr())
	}
	if uc, ok := pc.(*net.UDPConn); ok && s.cfg.ListenerBufferBytes > 0 {
		r, w := setBuffers(uc, s.cfg.ListenerBufferBytes)
		if report {
			s.buffers = append(s.buffers, SocketBuffer{Addr: pc.LocalAddr().String(),
				Requested: s.cfg.ListenerBufferBytes, Read: r, Write: w})
		}
	}
	s.addURL("turn", pc.LocalAddr(), "udp")
}

// addListener serves a TCP or TLS listener, the relay's or the caller's;
// scheme is "turn" or "turns".
func (s *Server) addListener(ln net.Listener, scheme string) {
	s.listeners = append(s.listeners, newTrackedListener(ln, s))
	s.addURL(scheme, ln.Addr(), "tcp")
}

func (s *Server) hostPort(a net.Addr) string {
	ap, _ := addrPortOf(a)
	return net.JoinHostPort(s.cfg.PublicHost, strconv.Itoa(int(ap.Port())))
}

// addURL adds a listener's URL, once: sockets that share a port (with
// SO_REUSEPORT) have one URL.
func (s *Server) addURL(scheme string, a net.Addr, transport string) {
	u := scheme + ":" + s.hostPort(a) + "?transport=" + transport
	if !slices.Contains(s.urls, u) {
		s.urls = append(s.urls, u)
	}
}

// ownAddrs lists the addresses of the relay's host: the relay and bind
// addresses, each listener's address, and every interface address when a
// listener is bound to the unspecified address.
func (s *Server) ownAddrs() []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	add := func(ip netip.Addr) {
		ip = ip.Unmap().WithZone("")
		if ip.IsValid() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	add(s.cfg.RelayIP)
	add(s.cfg.RelayBindIP)
	var addrs []net.Addr
	for _, pc := range s.packetConns {
		addrs = append(addrs, pc.LocalAddr())
	}
	for _, ln := range s.listeners {
		addrs = append(addrs, ln.Addr())
	}
	unspecified := s.cfg.RelayBindIP.IsUnspecified()
	for _, a := range addrs {
		ap, ok := addrPortOf(a)
		if !ok {
			continue
		}
		if ap.Addr().IsUnspecified() {
			unspecified = true
			continue
		}
		add(ap.Addr())
	}
	if unspecified {
		if ifas, err := net.InterfaceAddrs(); err == nil {
			for _, ifa := range ifas {
				if p, err := netip.ParsePrefix(ifa.String()); err == nil {
					add(p.Addr())
				}
			}
		}
	}
	return out
}
