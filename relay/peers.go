package relay

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// peerRules combines the peer policy with the rules that depend on this
// relay's own addresses: every address of the relay's host is refused, except
// the relayed addresses of live allocations, so that two clients of one relay
// can reach each other through their relayed addresses while the relay's
// listeners, and every other port of its host, stay out of reach.
type peerRules struct {
	policy *PeerPolicy
	own    []netip.Addr // the relay host's addresses, unmapped; the relay IP first

	// relayIP is own[0], the IP of the relayed addresses, and livePorts
	// has bit p set while relayIP:p is live: sendable, on every packet,
	// reads it without a lock. The live map below still holds every live
	// address, for the others.
	relayIP   netip.Addr
	livePorts [1 << 16 / 64]atomic.Uint64

	mu       sync.RWMutex                // guards the following fields
	live     map[netip.AddrPort]struct{} // relayed addresses of live allocations
	perIP    map[netip.Addr]int          // count of live relayed addresses per IP
	byClient map[string]netip.AddrPort   // client 5-tuple source → its relayed address
	clientOf map[netip.AddrPort]string   // relayed address → client 5-tuple source
}

func newPeerRules(policy *PeerPolicy, own []netip.Addr) *peerRules {
	var relayIP netip.Addr
	if len(own) > 0 {
		relayIP = own[0]
	}
	return &peerRules{
		policy:   policy,
		relayIP:  relayIP,
		own:      own,
		live:     make(map[netip.AddrPort]struct{}),
		perIP:    make(map[netip.Addr]int),
		byClient: make(map[string]netip.AddrPort),
		clientOf: make(map[netip.AddrPort]string),
	}
}

func (r *peerRules) isOwn(ip netip.Addr) bool { return containsAddr(r.own, ip) }

// addLive records a relayed address as live.
func (r *peerRules) addLive(ap netip.AddrPort) {
	ap = unmapAP(ap)
	r.mu.Lock()
	if _, ok := r.live[ap]; !ok {
		r.live[ap] = struct{}{}
		r.perIP[ap.Addr()]++
		if ap.Addr() == r.relayIP {
			r.livePorts[ap.Port()/64].Or(1 << (ap.Port() % 64))
		}
	}
	r.mu.Unlock()
}

// removeLive forgets a relayed address.
func (r *peerRules) removeLive(ap netip.AddrPort) {
	ap = unmapAP(ap)
	r.mu.Lock()
	if _, ok := r.live[ap]; ok {
		delete(r.live, ap)
		if ap.Addr() == r.relayIP {
			r.livePorts[ap.Port()/64].And(^(1 << (ap.Port() % 64)))
		}
		if r.perIP[ap.Addr()]--; r.perIP[ap.Addr()] <= 0 {
			delete(r.perIP, ap.Addr())
		}
	}
	if c, ok := r.clientOf[ap]; ok {
		delete(r.clientOf, ap)
		delete(r.byClient, c)
	}
	r.mu.Unlock()
}

// bindClient ties a client source address to its allocation's relayed
// address, so the client's own relayed address does not count as "another
// allocation" when it asks for a permission.
func (r *peerRules) bindClient(client string, relayed netip.AddrPort) {
	relayed = unmapAP(relayed)
	r.mu.Lock()
	if _, ok := r.live[relayed]; ok {
		r.byClient[client] = relayed
		r.clientOf[relayed] = client
	}
	r.mu.Unlock()
}

// relayedOf returns the relayed address of the allocation a client holds.
func (r *peerRules) relayedOf(client string) (netip.AddrPort, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ap, ok := r.byClient[client]
	return ap, ok
}

// permit decides a CreatePermission or ChannelBind from client for peer IP
// ip. Permissions are per IP (RFC 8656), so for the relay's own addresses
// it grants the IP when another allocation has a live relayed address on it;
// sends and receives are then limited to the live relayed ports by
// sendable.
func (r *peerRules) permit(client net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	if !ok {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if !r.isOwn(ip) {
		return r.policy.Allowed(ip)
	}
	key := client.String()
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := r.perIP[ip]
	if mine, ok := r.byClient[key]; ok && mine.Addr() == ip {
		n--
	}
	return n > 0
}

// sendable decides, per packet, whether the relay may send to or accept
// from the peer address ap. It takes no lock for a peer off the relay's
// host or at a relayed address.
func (r *peerRules) sendable(ap netip.AddrPort) bool {
	ap = unmapAP(ap)
	if !r.isOwn(ap.Addr()) {
		return r.policy.Allowed(ap.Addr())
	}
	if ap.Addr() == r.relayIP {
		return r.livePorts[ap.Port()/64].Load()&(1<<(ap.Port()%64)) != 0
	}
	r.mu.RLock()
	_, ok := r.live[ap]
	r.mu.RUnlock()
	return ok
}

func unmapAP(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// addrPortOf converts a UDP or TCP address to a netip.AddrPort.
func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	switch v := a.(type) {
	case *net.UDPAddr:
		return unmapAP(v.AddrPort()), true
	case *net.TCPAddr:
		return unmapAP(v.AddrPort()), true
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, false
	}
	return unmapAP(ap), true
}
