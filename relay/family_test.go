package relay_test

import (
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/relay"
)

// needIPv6 skips the test when the host has no IPv6 loopback.
func needIPv6(t *testing.T) {
	t.Helper()
	pc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_ = pc.Close()
}

// family is a REQUESTED-ADDRESS-FAMILY attribute (RFC 8656 18.8).
func family(f byte) stun.RawAttribute {
	return stun.RawAttribute{Type: stun.AttrRequestedAddressFamily, Value: []byte{f, 0, 0, 0}}
}

var udpTransport = stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}

// rawOn is a raw client of s on the given local network ("udp4", "udp6",
// or "tcp" to s's first TCP listener).
func rawOn(t *testing.T, s *relay.Server, network string) *rawClient {
	t.Helper()
	c := newRawClient(t, s)
	switch network {
	case "udp6":
		conn, err := net.ListenPacket("udp6", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		c.conn = conn
	case "tcp":
		conn, err := net.DialTimeout("tcp", s.TCPAddrs()[0].String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		c.conn, c.server = turn.NewSTUNConn(conn), conn.RemoteAddr()
	}
	return c
}

// challenge sends an unauthenticated Allocate and keeps the realm and
// nonce of its 401.
func (c *rawClient) challenge(attrs ...stun.Setter) *stun.Message {
	c.t.Helper()
	res := c.do(stun.MethodAllocate, attrs...)
	var realm stun.Realm
	var nonce stun.Nonce
	if realm.GetFrom(res) != nil || nonce.GetFrom(res) != nil {
		c.t.Fatalf("unauthenticated Allocate: want 401 with realm and nonce, got %s", res)
	}
	c.realm, c.nonce = realm.String(), nonce.String()
	return res
}

// TestAllocateAddressFamily: an Allocate for the family the relay does
// not relay gets 440 Address Family not Supported (RFC 8656 7.2), signed
// with the credential, on UDP and on TCP, for an IPv6 relay asked for
// IPv4 and an IPv4 relay asked for IPv6; the family it does relay
// allocates. Without the relay's answer, pion's would
// be 508 Insufficient Capacity.
func TestAllocateAddressFamily(t *testing.T) {
	needIPv6(t)
	cases := []struct {
		name      string
		listen    string // listener address of the relay, UDP and TCP
		client    string // raw client network
		wrong, ok byte   // families
	}{
		{"IPv6 relay, UDP", "[::1]:0", "udp6", 0x01, 0x02},
		{"IPv6 relay, TCP", "[::1]:0", "tcp", 0x01, 0x02},
		{"IPv4 relay, UDP", "127.0.0.1:0", "udp4", 0x02, 0x01},
		{"IPv4 relay, TCP", "127.0.0.1:0", "tcp", 0x02, 0x01},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newRelay(t, func(c *relay.Config) {
				c.UDPAddrs, c.TCPAddrs = []string{tc.listen}, []string{tc.listen}
			})
			c := rawOn(t, s, tc.client)
			// Unauthenticated, the wrong family still gets the 401 first.
			c.challenge(udpTransport, family(tc.wrong))
			c.expectError("Allocate for the wrong family", c.do(stun.MethodAllocate, udpTransport, family(tc.wrong)), stun.CodeAddrFamilyNotSupported)
			if got := s.Stats().Allocations; got != 0 {
				t.Fatalf("Allocations = %d after a 440", got)
			}
			// A wrong password gets pion's 401, not the 440.
			good := c.pass
			c.pass = "wrong"
			res := c.do(stun.MethodAllocate, udpTransport, family(tc.wrong))
			var code stun.ErrorCodeAttribute
			if code.GetFrom(res) != nil || code.Code != stun.CodeUnauthorized {
				t.Fatalf("Allocate for the wrong family with a wrong password: %s, want 401", res)
			}
			c.pass = good
			if res := c.do(stun.MethodAllocate, udpTransport, family(tc.ok)); res.Type.Class != stun.ClassSuccessResponse {
				t.Fatalf("Allocate for the relay's family: %s", res)
			}
		})
	}
}

// TestAllocateDefaultFamily: on an IPv6 listener of a relay that relays
// IPv4, an Allocate without REQUESTED-ADDRESS-FAMILY asks, as pion reads
// it, for the listener's family: the relay answers 440 instead of 508.
func TestAllocateDefaultFamily(t *testing.T) {
	needIPv6(t)
	s := newRelay(t, func(c *relay.Config) {
		c.UDPAddrs, c.TCPAddrs = []string{"127.0.0.1:0", "[::1]:0"}, nil // RelayIP: 127.0.0.1
	})
	c := newRawClient(t, s)
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c.conn, c.server = conn, s.UDPAddrs()[1]
	c.challenge(udpTransport)
	c.expectError("Allocate without a family on the IPv6 listener", c.do(stun.MethodAllocate, udpTransport), stun.CodeAddrFamilyNotSupported)
	if res := c.do(stun.MethodAllocate, udpTransport, family(0x01)); res.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("Allocate for IPv4 on the IPv6 listener: %s", res)
	}
}
