package relay

import (
	"net/netip"
	"testing"
)

// TestSendableLivePorts: on the relay's host, exactly the live relayed
// addresses are sendable, in every form of the address (the lock-free
// port set), and other addresses of the host are not, live or not.
func TestSendableLivePorts(t *testing.T) {
	relayIP, other := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")
	r := newPeerRules(nil, []netip.Addr{relayIP, other})
	at := func(ip netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(ip, port) }
	mapped := netip.AddrFrom16(relayIP.As16())
	for _, port := range []uint16{0, 1, 63, 64, 50000, 65535} {
		if r.sendable(at(relayIP, port)) {
			t.Fatalf("port %d sendable before it is live", port)
		}
		r.addLive(at(relayIP, port))
		if !r.sendable(at(relayIP, port)) || !r.sendable(at(mapped, port)) {
			t.Fatalf("live port %d is not sendable", port)
		}
		if port > 0 && r.sendable(at(relayIP, port-1)) && port-1 != 0 && port-1 != 63 {
			t.Fatalf("port %d sendable: only %d is live", port-1, port)
		}
		if r.sendable(at(other, port)) {
			t.Fatalf("port %d of another address of the host is sendable", port)
		}
	}
	r.addLive(at(other, 7)) // a relayed address off RelayIP, decided under the lock
	if !r.sendable(at(other, 7)) || r.sendable(at(relayIP, 7)) {
		t.Fatal("a live address on another address of the host")
	}
	r.removeLive(at(relayIP, 50000))
	if r.sendable(at(relayIP, 50000)) || !r.sendable(at(relayIP, 65535)) || !r.sendable(at(relayIP, 64)) {
		t.Fatal("removing port 50000 did not remove exactly it")
	}
	if !r.sendable(at(netip.MustParseAddr("8.8.8.8"), 53)) {
		t.Fatal("a public peer is refused")
	}
}
