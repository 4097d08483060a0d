package relay

// The per-packet code of turnkit's wrappers, each over in-memory sockets so
// that only turnkit's own work is measured: TestPacketPathAllocs requires
// it to allocate nothing, and BenchmarkPacketPath reports its cost.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// errDrained ends a memConn's reads.
var errDrained = errors.New("drained")

// memConn is a socket in memory: ReadFrom returns msg from from once per
// arm (every time if forever), then errDrained; writes are counted and
// dropped.
type memConn struct {
	net.PacketConn // nil: only the methods below are used
	msg            []byte
	from, local    net.Addr
	armed, forever bool
	written        int
}

func (c *memConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if !c.forever {
		if !c.armed {
			return 0, nil, errDrained
		}
		c.armed = false
	}
	return copy(p, c.msg), c.from, nil
}

func (c *memConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	c.written += len(p)
	return len(p), nil
}

func (c *memConn) LocalAddr() net.Addr { return c.local }

// memStream is a TCP connection in memory whose reads return frame, again
// and again, and whose writes are dropped. Its addresses are fixed, as a
// net.TCPConn's are.
type memStream struct {
	net.Conn // nil: only the methods below are used
	frame    []byte
}

var (
	memRemote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5000}
	memLocal  = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3478}
)

func (c *memStream) Read(p []byte) (int, error)  { return copy(p, c.frame), nil }
func (c *memStream) Write(p []byte) (int, error) { return len(p), nil }
func (c *memStream) RemoteAddr() net.Addr        { return memRemote }
func (c *memStream) LocalAddr() net.Addr         { return memLocal }

// packetPath is a relay assembled by hand around in-memory sockets: a UDP
// listener, one allocation of a client on it with a channel bound to a
// peer and a permission for it, and the TCP wrappers.
type packetPath struct {
	srv              *Server
	listener, client *memConn // the listener socket beneath the wrappers; what it reads
	relayed          *memConn // the allocation's relayed socket
	guarded          *guardedPacketConn
	conn             *relayPacketConn
	clientAddr       *net.UDPAddr
	peer, ownPeer    *net.UDPAddr // a public-policy peer; a live relayed address on the relay's host
}

// channelData returns a ChannelData message on channel 0x4000 with an
// n-byte payload.
func channelData(n int) []byte {
	m := make([]byte, 4+n)
	m[0], m[1], m[2], m[3] = 0x40, 0x00, byte(n>>8), byte(n)
	return m
}

// newPacketPath assembles the relay with caps of bytesPerSecond each way.
func newPacketPath(bytesPerSecond float64) *packetPath {
	relayIP := netip.MustParseAddr("127.0.0.1")
	policy, _ := NewPeerPolicy([]string{"127.0.0.3"}, nil)
	s := &Server{cfg: Config{Realm: "turnkit", RelayIP: relayIP, Now: time.Now}}
	s.peers = newPeerRules(policy, []netip.Addr{relayIP})
	s.unauth = newAdmission(defaultAmplification, defaultUnauthBytesPerSecond, time.Now)
	p := &packetPath{
		srv:        s,
		clientAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
		peer:       &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: 9},
		ownPeer:    &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50001},
	}
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3478}
	p.listener = &memConn{local: local, from: p.clientAddr}
	p.guarded = &guardedPacketConn{PacketConn: p.listener, srv: s, admit: s.unauth, fast: true}
	p.relayed = &memConn{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}, from: p.peer}
	now := time.Now()
	p.conn = &relayPacketConn{PacketConn: p.relayed, srv: s, meter: true, listener: p.guarded,
		advertised: netip.MustParseAddrPort("127.0.0.1:50000"),
		toPeerCap:  newTokenBucket(bytesPerSecond, 1<<20, now), toClientCap: newTokenBucket(bytesPerSecond, 1<<20, now)}
	p.conn.perms.Store(&[]netip.Addr{netip.MustParseAddr("127.0.0.3"), relayIP})
	p.conn.chans.Store(&[]channelBinding{})
	p.conn.bindChannel(0x4000, p.peer, true)
	s.peers.addLive(p.conn.advertised)
	s.peers.addLive(netip.MustParseAddrPort("127.0.0.1:50001"))
	key := netip.MustParseAddrPort("127.0.0.1:40000")
	p.conn.client.Store(&allocationClient{listener: p.guarded, addr: p.clientAddr, key: key})
	p.guarded.clients.Store(key, p.conn)
	return p
}

// packetOp is one per-packet operation of a wrapper; it returns an error
// if the operation did not do what it is named for.
type packetOp struct {
	name string
	op   func() error
}

// packetOps lists the per-packet operations. The checks cost no
// allocation but the failure's.
func packetOps(p *packetPath) []packetOp {
	buf := make([]byte, 1600)
	payload := make([]byte, 1000)
	cd := channelData(1000)
	binding := must(stun.Build(stun.TransactionID, stun.BindingRequest)).Raw
	unauth := must(stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse),
		stun.CodeUnauthorized, stun.NewRealm("turnkit"), stun.NewNonce("0123456789abcdef"))).Raw
	gated := &gatedPacketConn{PacketConn: &memConn{msg: cd, from: p.clientAddr, forever: true, local: p.listener.local}, srv: p.srv}
	plain := &guardedPacketConn{PacketConn: &memConn{msg: cd, from: p.clientAddr, forever: true, local: p.listener.local}, srv: p.srv, admit: p.srv.unauth}
	request := &guardedPacketConn{PacketConn: &memConn{msg: binding, from: p.clientAddr, forever: true, local: p.listener.local}, srv: p.srv, admit: p.srv.unauth}
	padded := channelData(1000) // a multiple of 4: as pion writes ChannelData
	odd := channelData(1001)    // padded on the way out
	tcpW := &trackedConn{Conn: &memStream{}}
	tcpR := &trackedConn{Conn: &memStream{frame: padded}, ln: &trackedListener{lim: &streamLimits{}}}
	tcpR.guard.srv = p.srv
	tcpR.holding.Store(true)
	gatedTCP := &gatedConn{Conn: &memStream{frame: padded}, srv: p.srv}
	coalesced := bytes.Repeat(channelData(100), 16) // 16 frames in one read, as a busy stream delivers them
	tcpC := &trackedConn{Conn: &memStream{frame: coalesced}, ln: &trackedListener{lim: &streamLimits{}}}
	tcpC.guard.srv = p.srv
	tcpC.holding.Store(true)
	whole := make([]byte, len(coalesced))
	fail := func(format string, args ...any) error { return fmt.Errorf(format, args...) }
	return []packetOp{
		{"relayed/write-to-peer", func() error {
			if n, err := p.conn.WriteTo(payload, p.peer); n != len(payload) || err != nil {
				return fail("WriteTo: %d, %v", n, err)
			}
			return nil
		}},
		{"relayed/write-to-relayed-address", func() error {
			if n, err := p.conn.WriteTo(payload, p.ownPeer); n != len(payload) || err != nil {
				return fail("WriteTo: %d, %v", n, err)
			}
			return nil
		}},
		{"relayed/read-for-pion", func() error { // a peer without a channel: pion sends a Data indication
			p.relayed.msg, p.relayed.from, p.relayed.armed = payload, p.ownPeer, true
			if n, _, err := p.conn.ReadFrom(buf); n != len(payload) || err != nil {
				return fail("ReadFrom: %d, %v", n, err)
			}
			return nil
		}},
		{"relayed/read-fast-to-client", func() error {
			p.relayed.msg, p.relayed.from, p.relayed.armed = payload, p.peer, true
			if _, _, err := p.conn.ReadFrom(buf); err != errDrained {
				return fail("ReadFrom: %v, want the datagram relayed and the socket drained", err)
			}
			return nil
		}},
		{"listener/read-fast-to-peer", func() error {
			p.listener.msg, p.listener.armed = cd, true
			if _, _, err := p.guarded.ReadFrom(buf); err != errDrained {
				return fail("ReadFrom: %v, want the datagram relayed and the socket drained", err)
			}
			return nil
		}},
		{"listener/read-channeldata-for-pion", func() error {
			if n, _, err := plain.ReadFrom(buf); n != len(cd) || err != nil {
				return fail("ReadFrom: %d, %v", n, err)
			}
			return nil
		}},
		{"listener/read-stun-request", func() error {
			if n, _, err := request.ReadFrom(buf); n != len(binding) || err != nil {
				return fail("ReadFrom: %d, %v", n, err)
			}
			return nil
		}},
		{"listener/write-channeldata", func() error {
			if n, err := p.guarded.WriteTo(cd, p.clientAddr); n != len(cd) || err != nil {
				return fail("WriteTo: %d, %v", n, err)
			}
			return nil
		}},
		{"listener/write-unauthenticated-reply", func() error {
			p.srv.unauth.received(p.clientAddr, 1000) // pays for it
			if n, err := p.guarded.WriteTo(unauth, p.clientAddr); n != len(unauth) || err != nil {
				return fail("WriteTo: %d, %v", n, err)
			}
			return nil
		}},
		{"gate/read-channeldata", func() error {
			if n, _, err := gated.ReadFrom(buf); n != len(cd) || err != nil {
				return fail("ReadFrom: %d, %v", n, err)
			}
			return nil
		}},
		{"tcp/write-padded-channeldata", func() error {
			if n, err := tcpW.Write(padded); n != len(padded) || err != nil {
				return fail("Write: %d, %v", n, err)
			}
			return nil
		}},
		{"tcp/write-channeldata-to-pad", func() error {
			if n, err := tcpW.Write(odd); n != len(odd) || err != nil {
				return fail("Write: %d, %v", n, err)
			}
			return nil
		}},
		{"tcp/guard-read-channeldata", func() error {
			if n, err := io.ReadFull(tcpR, buf[:len(padded)]); n != len(padded) || err != nil {
				return fail("Read: %d, %v", n, err)
			}
			return nil
		}},
		{"tcp/guard-read-16-channeldata", func() error {
			if n, err := io.ReadFull(tcpC, whole); n != len(whole) || err != nil || !bytes.Equal(whole, coalesced) {
				return fail("Read: %d, %v", n, err)
			}
			return nil
		}},
		{"tcp/gate-read-channeldata", func() error {
			if n, err := io.ReadFull(gatedTCP, buf[:len(padded)]); n != len(padded) || err != nil {
				return fail("Read: %d, %v", n, err)
			}
			return nil
		}},
	}
}

func must(m *stun.Message, err error) *stun.Message {
	if err != nil {
		panic(err)
	}
	return m
}

// TestPacketPathAllocs: no per-packet operation of turnkit's wrappers
// allocates (metering, bitrate caps, peer rules, permission mirror,
// admission, the guard, the gate, the fast path both ways, TCP framing
// and padding), and the fast path did its work: every datagram reached
// the in-memory socket it was meant for.
func TestPacketPathAllocs(t *testing.T) {
	p := newPacketPath(6_250_000) // the default cap: 50 Mbit/s
	for _, o := range packetOps(p) {
		t.Run(o.name, func(t *testing.T) {
			var err error
			if n := testing.AllocsPerRun(200, func() { err = o.op() }); n != 0 {
				t.Fatalf("%v allocations per packet", n)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	if p.conn.fastToPeer.Load() == 0 || p.conn.fastToClient.Load() == 0 {
		t.Fatalf("fast path relayed %d datagrams to the peer and %d to the client", p.conn.fastToPeer.Load(), p.conn.fastToClient.Load())
	}
	if p.relayed.written == 0 || p.listener.written == 0 {
		t.Fatalf("%d bytes written on the relayed socket, %d on the listener", p.relayed.written, p.listener.written)
	}
}

// TestPacketPathFastEncoding: ChannelData from a peer leaves through the
// listener as pion encodes it: channel number, length, payload, zero
// padding to four bytes.
func TestPacketPathFastEncoding(t *testing.T) {
	p := newPacketPath(1e12)
	var last []byte
	p.listener.PacketConn = nil
	rec := &recordingConn{memConn: p.listener}
	p.guarded.PacketConn = rec
	buf := make([]byte, 1600)
	for _, n := range []int{0, 1, 2, 3, 4, 5, 1000, 1001, 1593, 1596} {
		payload := bytes.Repeat([]byte{0xAB}, n)
		p.relayed.msg, p.relayed.from, p.relayed.armed = payload, p.peer, true
		_, _, _ = p.conn.ReadFrom(buf)
		last = rec.last
		want := append([]byte{0x40, 0x00, byte(n >> 8), byte(n)}, payload...)
		for len(want)%4 != 0 {
			want = append(want, 0)
		}
		if !bytes.Equal(last, want) {
			t.Fatalf("%d-byte payload went out as % x, want % x", n, last, want)
		}
	}
	// Too large for a header and padding in pion's buffer: pion gets it.
	payload := make([]byte, 1597)
	p.relayed.msg, p.relayed.armed = payload, true
	if n, _, err := p.conn.ReadFrom(buf); n != len(payload) || err != nil {
		t.Fatalf("a 1597-byte datagram: ReadFrom %d, %v; want it handed to pion", n, err)
	}
}

// recordingConn keeps the last datagram written.
type recordingConn struct {
	*memConn
	last []byte
}

func (c *recordingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.last = append(c.last[:0], p...)
	return c.memConn.WriteTo(p, addr)
}

// BenchmarkPacketPath reports what each per-packet operation of turnkit's
// wrappers costs over in-memory sockets, caps passing everything.
func BenchmarkPacketPath(b *testing.B) {
	p := newPacketPath(1e12)
	for _, o := range packetOps(p) {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := o.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzFastPath feeds arbitrary datagrams to the fast path both ways. From
// the client, exactly the well-formed ChannelData on the bound channel is
// relayed, its payload as its length field says, and every other datagram
// reaches pion unchanged; from the peer, every datagram goes to the client
// as ChannelData carrying it, or to pion when it leaves no room for the
// header in pion's buffer. Nothing panics.
func FuzzFastPath(f *testing.F) {
	f.Add([]byte{0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0})
	f.Add([]byte{0x40, 0x01, 0x00, 0x01, 9})
	f.Add([]byte{0x40, 0x00, 0x00, 0x09, 1})
	f.Add([]byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42})
	f.Add([]byte{})
	p := newPacketPath(1e12) // one relay for every run: each arms its own datagram
	p.conn.toPeerCap, p.conn.toClientCap = nil, nil
	buf := make([]byte, 1600)
	f.Fuzz(func(t *testing.T, data []byte) {
		// From the client.
		before := p.relayed.written
		p.listener.msg, p.listener.armed = data, true
		n, _, err := p.guarded.ReadFrom(buf)
		size := -1
		if len(data) >= 4 && len(data) < len(buf) && data[0] == 0x40 && data[1] == 0x00 {
			if l := int(data[2])<<8 | int(data[3]); l <= len(data)-4 {
				size = l
			}
		}
		switch {
		case size >= 0:
			if err != errDrained || p.relayed.written-before != size {
				t.Fatalf("ChannelData with a %d-byte payload: ReadFrom %d, %v; %d bytes relayed", size, n, err, p.relayed.written-before)
			}
		case err != nil || n != min(len(data), len(buf)) || !bytes.Equal(buf[:n], data[:n]) || p.relayed.written != before:
			t.Fatalf("datagram % x: ReadFrom %d, %v, %d bytes relayed; want it handed to pion unchanged", data, n, err, p.relayed.written-before)
		}
		// From the peer.
		sent := p.listener.written
		p.relayed.msg, p.relayed.from, p.relayed.armed = data, p.peer, true
		n, _, err = p.conn.ReadFrom(buf)
		in := min(len(data), len(buf))
		if 4+(in+3)&^3 <= len(buf) {
			if err != errDrained || p.listener.written-sent != 4+(in+3)&^3 {
				t.Fatalf("%d bytes from the peer: ReadFrom %d, %v; %d bytes to the client", in, n, err, p.listener.written-sent)
			}
		} else if err != nil || n != in || p.listener.written != sent {
			t.Fatalf("%d bytes from the peer: ReadFrom %d, %v; want them handed to pion", in, n, err)
		}
	})
}
