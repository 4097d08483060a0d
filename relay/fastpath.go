package relay

// This file holds the relay's fast path for ChannelData on bound channels
// of UDP allocations, both ways, which turnkit answers itself instead of
// handing each datagram to pion.
//
// Why: profiled under coturn's turnutils_uclient, pion spends, per relayed
// datagram, a net.UDPAddr from each socket read (two allocations), a
// ChannelData encoding that grows a fresh buffer byte by byte for every
// datagram to a client, two read-locked lookups (the allocation by 5-tuple
// under the allocation manager's RWMutex, the channel under the
// allocation's) and a copy of its 300-byte request struct. The fast path
// does neither: it finds the allocation in a map without locks, keeps the
// channel bindings in an immutable list swapped atomically, reads the
// relayed socket into netip.AddrPort and writes the ChannelData header in
// place in pion's own buffer.
//
// What it must keep, and does: every datagram passes the same rules as on
// pion's path, in the same order. From a client: the allocation of the
// datagram's 5-tuple, the channel bound on it (pion's handleChannelData
// checks nothing more), then the relayed socket's WriteTo itself: peer
// rules, bitrate cap, metering. From a peer: the relayed socket's ReadFrom
// checks (peer rules, permission, bitrate cap, metering) come first, then
// the channel bound to the peer's address and port. Anything the fast path
// does not recognise, it hands to pion unchanged: STUN messages, Data and
// Send indications, ChannelData on an unbound channel, on a TCP or TLS
// connection, from a peer without a permission (pion still forwards
// ChannelData there, unmetered, as it does without the fast path), or too
// large to take a header in place. Config.DisableFastPath turns it off.
//
// The mirrors are updated from pion's own events (OnAllocationCreated,
// OnChannelCreated, OnChannelDeleted, the relayed socket's Close), which
// pion raises before it answers the request that caused them, so a
// binding is in the mirror before the client learns of it.

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync/atomic"
)

// channelBinding is one channel bound on an allocation, as pion reported
// it.
type channelBinding struct {
	number   uint16
	peer     netip.AddrPort // addrPortOf(peerAddr), unmapped, without zone: compared as pion's ipnet.AddrEqual compares
	peerAddr net.Addr       // pion's own address value, handed to WriteTo as pion would
}

// allocationClient is the client side of a UDP allocation: where the fast
// path sends ChannelData from peers.
type allocationClient struct {
	listener *guardedPacketConn // the listener socket the allocation was made on
	addr     net.Addr           // the client's address, pion's value
	key      netip.AddrPort     // addr, unmapped: the key in listener.clients
}

// bindChannel records a channel binding (on = true) or its removal.
func (c *relayPacketConn) bindChannel(number uint16, peer net.Addr, on bool) {
	ap, _ := addrPortOf(peer)
	for {
		old := c.chans.Load()
		next := make([]channelBinding, 0, len(*old)+1)
		for _, b := range *old {
			if b.number != number {
				next = append(next, b)
			}
		}
		if on {
			next = append(next, channelBinding{number: number, peer: ap, peerAddr: peer})
		}
		if c.chans.CompareAndSwap(old, &next) {
			return
		}
	}
}

// channelRoom reports whether the allocation may bind channel number: it
// is already bound (a refresh), or the cap leaves room.
func (c *relayPacketConn) channelRoom(number uint16, max int) bool {
	return c.channelByNumber(number) != nil || len(*c.chans.Load()) < max
}

// channelByNumber returns the binding of channel number, or nil.
func (c *relayPacketConn) channelByNumber(number uint16) *channelBinding {
	bound := *c.chans.Load()
	for i := range bound {
		if bound[i].number == number {
			return &bound[i]
		}
	}
	return nil
}

// channelByPeer returns the binding of the peer at ap (unmapped), or nil.
func (c *relayPacketConn) channelByPeer(ap netip.AddrPort) *channelBinding {
	bound := *c.chans.Load()
	for i := range bound {
		if bound[i].peer == ap {
			return &bound[i]
		}
	}
	return nil
}

// fastAllocated makes a new UDP allocation's client known to the fast
// path: its address, and its entry in the clients of the listener it
// allocated on. pion raises OnAllocationCreated before it starts reading
// the relayed socket and before it answers the Allocate.
func (s *Server) fastAllocated(src, relayAddr net.Addr) {
	if s.cfg.DisableFastPath {
		return
	}
	c := s.connAt(relayAddr)
	if c == nil || c.listener == nil {
		return // a TCP allocation, or a client on TCP or TLS
	}
	key, ok := addrPortOf(src)
	if !ok {
		return
	}
	cl := &allocationClient{listener: c.listener, addr: src, key: key}
	c.client.Store(cl)
	c.listener.clients.Store(key, c)
}

// fastForgotten removes a closing relayed socket from its listener's
// clients.
func (c *relayPacketConn) fastForgotten() {
	if cl := c.client.Load(); cl != nil {
		cl.listener.clients.CompareAndDelete(cl.key, c)
	}
}

// forwardFromClient relays msg, a datagram a client sent to the listener,
// if it is ChannelData on a channel bound on the client's allocation: the
// payload goes to the channel's peer through the relayed socket's WriteTo,
// as pion's handleChannelData sends it. It reports whether it took msg;
// pion gets every datagram it did not take.
func (l *guardedPacketConn) forwardFromClient(msg []byte, from net.Addr) bool {
	if len(msg) < 4 || msg[0]&0xC0 != 0x40 {
		return false // not ChannelData (channel numbers are 0x4000-0x7FFF)
	}
	ap, ok := addrPortOf(from)
	if !ok {
		return false
	}
	v, ok := l.clients.Load(ap)
	if !ok {
		return false
	}
	c := v.(*relayPacketConn)
	size := int(binary.BigEndian.Uint16(msg[2:4]))
	if size > len(msg)-4 {
		return false // pion's IsChannelData refuses it too
	}
	b := c.channelByNumber(binary.BigEndian.Uint16(msg[0:2]))
	if b == nil {
		return false // pion answers nothing and logs it
	}
	_, _ = c.writeTo(msg[4:4+size], b.peerAddr, b.peer, l.sender) // pion logs a failed write and goes on
	c.fastToPeer.Add(1)
	return true
}

// forwardToClient sends the datagram of n bytes in p, read from the
// permitted peer at ap, to the client as ChannelData if a channel is bound
// to that peer, as pion's packetConnHandler would: the payload moves four
// bytes up in p for the header and is padded to a multiple of four bytes
// (pion pads over UDP too), then goes out through the listener's WriteTo.
// It reports whether it sent the datagram; p must have room for the header
// and padding, else pion gets the datagram.
func (c *relayPacketConn) forwardToClient(p []byte, n int, ap netip.AddrPort) bool {
	cl := c.client.Load()
	if cl == nil {
		return false
	}
	b := c.channelByPeer(ap)
	if b == nil {
		return false // a Data indication: pion builds it
	}
	padded := (n + 3) &^ 3
	if 4+padded > len(p) {
		return false
	}
	copy(p[4:4+n], p[:n])
	binary.BigEndian.PutUint16(p[0:2], b.number)
	binary.BigEndian.PutUint16(p[2:4], uint16(n))
	clear(p[4+n : 4+padded])
	// pion writes through the listener's WriteTo, whose admission check
	// passes ChannelData at its first byte: the raw send skips it.
	if _, err := c.sender.sendTo(cl.listener.raw, p[:4+padded], cl.key); err == errRawAddr {
		_, _ = cl.listener.WriteTo(p[:4+padded], cl.addr) // pion logs a failed write and goes on
	}
	c.fastToClient.Add(1)
	return true
}

// fastCounters are a relayed socket's counts of datagrams the fast path
// relayed, each way. They are per allocation, so that no two goroutines
// share a cache line per packet.
type fastCounters struct {
	fastToPeer, fastToClient atomic.Int64
}
