package relay_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/turnkit/turnkit/relay"
)

// rawClient speaks TURN with hand-built messages, so it can send what
// pion's client cannot: IPv4-mapped addresses in the IPv6 family, lists
// that mix allowed and refused peers, duplicate peer attributes.
type rawClient struct {
	t                        *testing.T
	channel                  uint16 // for ChannelBind; 0x4001 when zero
	conn                     net.PacketConn
	server                   net.Addr
	user, pass, realm, nonce string
	relayed                  netip.AddrPort // XOR-RELAYED-ADDRESS, once allocated
}

func newRawClient(t *testing.T, s *relay.Server) *rawClient {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	user, pass := mint("hostile", time.Minute)
	return &rawClient{t: t, conn: conn, server: s.UDPAddrs()[0], user: user, pass: pass}
}

// do sends a request, retransmitting it as RFC 8489 clients do (100 ms,
// doubling, 7 tries), and returns the response.
func (c *rawClient) do(method stun.Method, attrs ...stun.Setter) *stun.Message {
	c.t.Helper()
	tid := stun.NewTransactionID()
	buf := make([]byte, 1500)
	rto := 100 * time.Millisecond
	for try := 0; try < 7; try++ {
		c.send(tid, stun.NewType(method, stun.ClassRequest), attrs...)
		_ = c.conn.SetReadDeadline(time.Now().Add(rto))
		for {
			n, _, err := c.conn.ReadFrom(buf)
			if err != nil {
				break
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if m.Decode() == nil && m.TransactionID == tid {
				return m
			}
		}
		rto *= 2
	}
	c.t.Fatalf("%s: no response after 7 tries", method)
	return nil
}

// send sends a message with the given transaction ID; requests carry the
// long-term credential once the nonce is known.
func (c *rawClient) send(tid [stun.TransactionIDSize]byte, typ stun.MessageType, attrs ...stun.Setter) {
	c.t.Helper()
	setters := []stun.Setter{stun.NewTransactionIDSetter(tid), typ}
	setters = append(setters, attrs...)
	if typ.Class == stun.ClassRequest && c.nonce != "" {
		setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
			stun.NewLongTermIntegrity(c.user, c.realm, c.pass))
	}
	setters = append(setters, stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.WriteTo(m.Raw, c.server); err != nil {
		c.t.Fatal(err)
	}
}

// allocate authenticates and allocates a UDP relay.
func (c *rawClient) allocate() {
	c.t.Helper()
	transport := stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}
	res := c.do(stun.MethodAllocate, transport)
	var realm stun.Realm
	var nonce stun.Nonce
	if realm.GetFrom(res) != nil || nonce.GetFrom(res) != nil {
		c.t.Fatalf("first Allocate: want 401 with realm and nonce, got %s", res)
	}
	c.realm, c.nonce = realm.String(), nonce.String()
	if res.Contains(stun.AttrSoftware) {
		c.t.Errorf("the 401 challenge carries a SOFTWARE attribute")
	}
	if res = c.do(stun.MethodAllocate, transport); res.Type.Class != stun.ClassSuccessResponse {
		c.t.Fatalf("Allocate: %s", res)
	}
	var relayed stun.XORMappedAddress
	if err := relayed.GetFromAs(res, stun.AttrXORRelayedAddress); err != nil {
		c.t.Fatalf("Allocate response without XOR-RELAYED-ADDRESS: %v", err)
	}
	ip, _ := netip.AddrFromSlice(relayed.IP)
	c.relayed = netip.AddrPortFrom(ip.Unmap(), uint16(relayed.Port))
	if res.Contains(stun.AttrSoftware) {
		c.t.Errorf("the Allocate response carries a SOFTWARE attribute")
	}
}

// peer is an XOR-PEER-ADDRESS built by hand; family 0x02 with an IPv4-mapped
// address is the IPv6-family form pion's client never sends.
type peer struct {
	family byte
	ip     netip.Addr
	port   uint16
}

// attr encodes the peer for a message with transaction ID tid.
func (p peer) attr(tid [stun.TransactionIDSize]byte) stun.RawAttribute {
	var raw []byte
	if p.family == 0x01 {
		a := p.ip.As4()
		raw = a[:]
	} else {
		a := p.ip.As16()
		raw = a[:]
	}
	var key [16]byte
	binary.BigEndian.PutUint32(key[:4], 0x2112A442)
	copy(key[4:], tid[:])
	v := make([]byte, 4+len(raw))
	v[1] = p.family
	binary.BigEndian.PutUint16(v[2:4], p.port^0x2112)
	for i := range raw {
		v[4+i] = raw[i] ^ key[i]
	}
	return stun.RawAttribute{Type: stun.AttrXORPeerAddress, Value: v}
}

func v4(s string, port uint16) peer { return peer{0x01, netip.MustParseAddr(s), port} }
func v6(s string, port uint16) peer { return peer{0x02, netip.MustParseAddr(s), port} }

// request sends a request naming peers and returns the response.
func (c *rawClient) request(method stun.Method, peers ...peer) *stun.Message {
	c.t.Helper()
	tid := stun.NewTransactionID()
	attrs := []stun.Setter{}
	if method == stun.MethodChannelBind {
		ch := c.channel
		if ch == 0 {
			ch = 0x4001
		}
		attrs = append(attrs, stun.RawAttribute{Type: stun.AttrChannelNumber, Value: []byte{byte(ch >> 8), byte(ch), 0, 0}})
	}
	for _, p := range peers {
		attrs = append(attrs, p.attr(tid))
	}
	c.send(tid, stun.NewType(method, stun.ClassRequest), attrs...)
	buf := make([]byte, 1500)
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, _, err := c.conn.ReadFrom(buf)
		if err != nil {
			c.t.Fatalf("%s: no response: %v", method, err)
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if m.Decode() == nil && m.TransactionID == tid {
			return m
		}
	}
}

// sendData sends a Send indication with data to the peers named.
func (c *rawClient) sendData(data []byte, peers ...peer) {
	c.t.Helper()
	tid := stun.NewTransactionID()
	attrs := []stun.Setter{}
	for _, p := range peers {
		attrs = append(attrs, p.attr(tid))
	}
	attrs = append(attrs, stun.RawAttribute{Type: stun.AttrData, Value: data})
	c.send(tid, stun.NewType(stun.MethodSend, stun.ClassIndication), attrs...)
}

// expectError checks an authenticated error response with the code.
func (c *rawClient) expectError(what string, m *stun.Message, code stun.ErrorCode) {
	c.t.Helper()
	var ec stun.ErrorCodeAttribute
	if m.Type.Class != stun.ClassErrorResponse || ec.GetFrom(m) != nil || ec.Code != code {
		c.t.Errorf("%s: got %s (%v), want error %d", what, m, ec.Code, code)
		return
	}
	key := stun.NewLongTermIntegrity(c.user, c.realm, c.pass)
	if err := key.Check(m); err != nil {
		c.t.Errorf("%s: error response is not signed with the credential: %v", what, err)
	}
}

// sink listens on addr and reports whether anything arrived.
func sink(t *testing.T, network, addr string) (net.PacketConn, chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { _ = pc.Close() })
	return pc, got
}

func portOf(pc net.PacketConn) uint16 { return uint16(pc.LocalAddr().(*net.UDPAddr).Port) }

// TestHostilePeers sends CreatePermission, ChannelBind and Send for every
// refused form of address, a list mixing an allowed and a refused peer and
// duplicate peer attributes: each is refused (403, or 400 for a ChannelBind
// with two peers), signed with the credential, the mixed list grants none
// of its peers, and nothing arrives at listeners on 127.0.0.1, 127.0.0.2
// and ::1.
func TestHostilePeers(t *testing.T) {
	s := newRelay(t, nil) // allows 127.0.0.3 only
	lo1, got1 := sink(t, "udp4", "127.0.0.1:0")
	lo2, got2 := sink(t, "udp4", "127.0.0.2:0")
	lo6, got6 := sink(t, "udp6", "[::1]:0")
	ok3, got3 := sink(t, "udp4", "127.0.0.3:0")
	p1, p2, p6, p3 := portOf(lo1), portOf(lo2), portOf(lo6), portOf(ok3)

	refused := map[string]peer{
		"::ffff:127.0.0.1 in the IPv6 family": v6("::ffff:127.0.0.1", p1),
		"127.0.0.1":                           v4("127.0.0.1", p1),
		"127.0.0.2":                           v4("127.0.0.2", p2),
		"::1":                                 v6("::1", p6),
		"0.0.0.0":                             v4("0.0.0.0", p1),
		"::":                                  v6("::", p1),
		"::127.0.0.1 (IPv4-compatible)":       v6("::127.0.0.1", p1),
		"64:ff9b::7f00:1 (NAT64)":             v6("64:ff9b::7f00:1", p1),
		"2002:7f00:1:: (6to4)":                v6("2002:7f00:1::", p1),
		"169.254.169.254":                     v4("169.254.169.254", 80),
		"fd00:ec2::254":                       v6("fd00:ec2::254", 80),
		"224.0.0.1 multicast":                 v4("224.0.0.1", p1),
		"ff02::1 multicast":                   v6("ff02::1", p1),
		"255.255.255.255 broadcast":           v4("255.255.255.255", p1),
		"10.0.0.1":                            v4("10.0.0.1", p1),
	}
	c := newRawClient(t, s)
	c.allocate()
	for name, p := range refused {
		c.expectError("CreatePermission "+name, c.request(stun.MethodCreatePermission, p), stun.CodeForbidden)
		c.expectError("ChannelBind "+name, c.request(stun.MethodChannelBind, p), stun.CodeForbidden)
		c.sendData([]byte("attack "+name), p)
	}
	allowed := v4("127.0.0.3", p3)
	c.expectError("CreatePermission [allowed, refused]",
		c.request(stun.MethodCreatePermission, allowed, v4("127.0.0.1", p1)), stun.CodeForbidden)
	c.expectError("CreatePermission [refused, refused]",
		c.request(stun.MethodCreatePermission, v4("127.0.0.1", p1), v4("127.0.0.1", p1)), stun.CodeForbidden)
	c.expectError("ChannelBind [allowed, refused]",
		c.request(stun.MethodChannelBind, allowed, v4("127.0.0.1", p1)), stun.CodeBadRequest)
	c.expectError("ChannelBind [allowed, allowed]",
		c.request(stun.MethodChannelBind, allowed, allowed), stun.CodeBadRequest)
	c.expectError("CreatePermission without a peer", c.request(stun.MethodCreatePermission), stun.CodeBadRequest)
	c.sendData([]byte("mixed send"), allowed, v4("127.0.0.1", p1))

	// The mixed list granted nothing: a Send to the allowed peer finds no
	// permission and is dropped.
	c.sendData([]byte("to allowed, no permission"), allowed)
	for name, got := range map[string]chan struct{}{"127.0.0.1": got1, "127.0.0.2": got2, "::1": got6, "127.0.0.3": got3} {
		select {
		case <-got:
			t.Errorf("data arrived at the listener on %s", name)
		case <-time.After(500 * time.Millisecond):
		}
	}

	// Control: the allowed peer alone is granted and reached, so the
	// silence above is the relay's doing.
	if m := c.request(stun.MethodCreatePermission, allowed); m.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("CreatePermission 127.0.0.3: %s", m)
	}
	c.sendData([]byte("control"), allowed)
	select {
	case <-got3:
	case <-time.After(2 * time.Second):
		t.Fatal("the control datagram to the allowed peer did not arrive")
	}
	if s.Stats().PeerRefused < uint64(2*len(refused)) {
		t.Errorf("PeerRefused = %d, want at least %d", s.Stats().PeerRefused, 2*len(refused))
	}
}

// TestPerAllocationCaps: past the permission and channel caps, new ones get
// 508 while refreshes of existing ones still succeed.
func TestPerAllocationCaps(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) {
		c.AllowPeers = []string{"127.0.0.3", "127.0.0.4", "127.0.0.5"}
		c.MaxPermissionsPerAllocation = 2
		c.MaxChannelsPerAllocation = 1
	})
	c := newRawClient(t, s)
	c.allocate()
	ok := func(what string, m *stun.Message) {
		t.Helper()
		if m.Type.Class != stun.ClassSuccessResponse {
			t.Fatalf("%s: %s", what, m)
		}
	}
	ok("permission 1", c.request(stun.MethodCreatePermission, v4("127.0.0.3", 9)))
	ok("permission 2", c.request(stun.MethodCreatePermission, v4("127.0.0.4", 9)))
	c.expectError("permission 3", c.request(stun.MethodCreatePermission, v4("127.0.0.5", 9)), stun.CodeInsufficientCapacity)
	ok("refresh of permission 1", c.request(stun.MethodCreatePermission, v4("127.0.0.3", 10)))
	c.channel = 0x4001
	ok("channel 1", c.request(stun.MethodChannelBind, v4("127.0.0.3", 9)))
	ok("refresh of channel 1", c.request(stun.MethodChannelBind, v4("127.0.0.3", 9)))
	c.channel = 0x4002
	c.expectError("channel 2", c.request(stun.MethodChannelBind, v4("127.0.0.4", 9)), stun.CodeInsufficientCapacity)
}

// TestOwnHostPorts: a CreatePermission or ChannelBind naming the relay's own
// host at a port that is not a live relayed address (its UDP and TCP
// listeners, a plain port) gets 403, signed, even while another allocation
// lives on the same IP, which pion's per-IP permissions would otherwise
// grant; one naming another allocation's relayed address is granted, and
// data flows between the two clients.
func TestOwnHostPorts(t *testing.T) {
	s := newRelay(t, nil)
	plain, _ := sink(t, "udp4", "127.0.0.1:0")
	a, b := newRawClient(t, s), newRawClient(t, s)
	a.allocate()
	b.allocate()
	if !b.relayed.Addr().IsLoopback() {
		t.Fatalf("relayed address %s: want one on the relay's loopback address", b.relayed)
	}
	own := map[string]peer{
		"the UDP listener": v4("127.0.0.1", uint16(s.UDPAddrs()[0].(*net.UDPAddr).Port)),
		"the TCP listener": v4("127.0.0.1", uint16(s.TCPAddrs()[0].(*net.TCPAddr).Port)),
		"a plain port":     v4("127.0.0.1", portOf(plain)),
		"a free port":      v4("127.0.0.1", 9),
		"in IPv6 form":     v6("::ffff:127.0.0.1", portOf(plain)),
	}
	refusedBefore := s.Stats().PeerRefused
	for name, p := range own {
		a.expectError("CreatePermission to "+name, a.request(stun.MethodCreatePermission, p), stun.CodeForbidden)
		a.expectError("ChannelBind to "+name, a.request(stun.MethodChannelBind, p), stun.CodeForbidden)
	}
	if got := s.Stats().PeerRefused - refusedBefore; got != uint64(2*len(own)) {
		t.Errorf("PeerRefused grew by %d, want %d", got, 2*len(own))
	}

	toB := v4(b.relayed.Addr().String(), b.relayed.Port())
	toA := v4(a.relayed.Addr().String(), a.relayed.Port())
	for what, m := range map[string]*stun.Message{
		"A permits B's relayed address": a.request(stun.MethodCreatePermission, toB),
		"B permits A's relayed address": b.request(stun.MethodCreatePermission, toA),
		"A binds a channel to B":        a.request(stun.MethodChannelBind, toB),
	} {
		if m.Type.Class != stun.ClassSuccessResponse {
			t.Fatalf("%s: %s", what, m)
		}
	}
	a.sendData([]byte("a to b"), toB)
	buf := make([]byte, 1500)
	_ = b.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, _, err := b.conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("B received nothing from A: %v", err)
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		var data stun.RawAttribute
		if m.Decode() != nil || m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) {
			continue
		}
		if v, err := m.Get(stun.AttrData); err == nil {
			data.Value = v
		}
		if string(data.Value) != "a to b" {
			t.Fatalf("B received %q", data.Value)
		}
		break
	}
}
