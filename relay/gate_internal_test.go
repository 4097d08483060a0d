package relay

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// chunkConn is a client connection whose reads return its data in chunks
// of a given size, and whose writes are kept.
type chunkConn struct {
	net.Conn // nil: only the methods below are used
	data     []byte
	chunk    int
	mu       sync.Mutex
	written  [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data[:min(c.chunk, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written = append(c.written, append([]byte(nil), p...))
	return len(p), nil
}

func (c *chunkConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5000}
}
func (c *chunkConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3478} }

// gateServer is the part of a Server the gate uses: an IPv4 relay whose
// credentials are verified with one static secret.
func gateServer() *Server {
	s := &Server{cfg: Config{Realm: "turnkit", RelayIP: netip.MustParseAddr("127.0.0.1"), Now: time.Now, ClockSkew: time.Second}}
	s.auth = NewRESTAuthenticator(NewStaticSecrets("k1", []byte("gate secret")))
	s.ctx = context.Background()
	return s
}

// readThrough reads everything from a gatedConn over c with reads of
// size n.
func readThrough(s *Server, c *chunkConn, n int) []byte {
	g := &gatedConn{Conn: c, srv: s}
	var out []byte
	buf := make([]byte, n)
	for {
		k, err := g.Read(buf)
		out = append(out, buf[:k]...)
		if err != nil {
			return out
		}
	}
}

// FuzzGatedConn: whatever the bytes and however they are split, a stream
// the gate answers nothing of comes out of the gated connection as it
// went in.
func FuzzGatedConn(f *testing.F) {
	f.Add([]byte{0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0}, uint8(3), uint8(7))
	f.Add(allocateFrame(f, 0x02, "wrong"), uint8(1), uint8(200))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint8(5), uint8(1))
	f.Add(append([]byte{0x00, 0x0B, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0x00, 0x03, 0xFF, 0xFF), uint8(2), uint8(9))
	s := gateServer()
	f.Fuzz(func(t *testing.T, data []byte, chunk, read uint8) {
		c := &chunkConn{data: data, chunk: int(chunk%64) + 1}
		out := readThrough(s, c, int(read)+1)
		if len(c.written) == 0 && !bytes.Equal(out, data) {
			t.Fatalf("in %x, out %x", data, out)
		}
		if len(c.written) > 0 && len(out) >= len(data) {
			t.Fatalf("the gate answered a request but passed it on too")
		}
	})
}

// allocateFrame is an Allocate for family fam, signed with pass.
func allocateFrame(t testing.TB, fam byte, pass string) []byte {
	user := Username{Expires: time.Now().Add(time.Minute), AppID: "a", KeyID: "k1", Nonce: "n"}.String()
	if pass == "" {
		pass = Credential([]byte("gate secret"), user)
	}
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}},
		stun.RawAttribute{Type: stun.AttrRequestedAddressFamily, Value: []byte{fam, 0, 0, 0}},
		stun.NewUsername(user), stun.NewRealm("turnkit"), stun.NewNonce("nonce"),
		stun.NewLongTermIntegrity(user, "turnkit", pass), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// TestGatedConnAnswers: in a stream split at every byte, the Allocate the
// gate answers (440, for IPv6 on an IPv4 relay) is removed and answered,
// and the frames around it pass whole and in order.
func TestGatedConnAnswers(t *testing.T) {
	s := gateServer()
	before := []byte{0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0} // padded ChannelData
	after := allocateFrame(t, 0x01, "")                                        // the relay's family: passes
	for _, chunk := range []int{1, 3, 20, 4096} {
		for _, read := range []int{1, 7, 1600} {
			stream := append(append(append([]byte(nil), before...), allocateFrame(t, 0x02, "")...), after...)
			c := &chunkConn{data: stream, chunk: chunk}
			out := readThrough(s, c, read)
			if want := append(append([]byte(nil), before...), after...); !bytes.Equal(out, want) {
				t.Fatalf("chunk %d, read %d: out %x, want %x", chunk, read, out, want)
			}
			if len(c.written) != 1 {
				t.Fatalf("chunk %d, read %d: %d responses written, want 1", chunk, read, len(c.written))
			}
			var m stun.Message
			var code stun.ErrorCodeAttribute
			if err := stun.Decode(c.written[0], &m); err != nil || code.GetFrom(&m) != nil || code.Code != stun.CodeAddrFamilyNotSupported {
				t.Fatalf("response %x: want a 440", c.written[0])
			}
		}
	}
	// Signed with a wrong password, the same Allocate passes to pion.
	wrong := allocateFrame(t, 0x02, "wrong")
	c := &chunkConn{data: wrong, chunk: 5}
	if out := readThrough(s, c, 1600); !bytes.Equal(out, wrong) || len(c.written) != 0 {
		t.Fatalf("an Allocate with a wrong password was answered by the gate")
	}
}

// fixedConn is a UDP listener whose every read returns the same datagram.
type fixedConn struct {
	net.PacketConn // nil: only ReadFrom and LocalAddr are used
	msg            []byte
	from           net.Addr
}

func (c *fixedConn) ReadFrom(p []byte) (int, net.Addr, error) { return copy(p, c.msg), c.from, nil }
func (c *fixedConn) LocalAddr() net.Addr                      { return c.from }

// TestGatedReadAllocs: relayed data through the gate's UDP wrapper costs
// no allocation.
func TestGatedReadAllocs(t *testing.T) {
	g := &gatedPacketConn{PacketConn: &fixedConn{msg: []byte{0x40, 0x01, 0x00, 0x04, 1, 2, 3, 4}, from: &net.UDPAddr{}}, srv: gateServer()}
	buf := make([]byte, 1600)
	if n := testing.AllocsPerRun(1000, func() { _, _, _ = g.ReadFrom(buf) }); n != 0 {
		t.Fatalf("%v allocations per ChannelData read", n)
	}
}

// BenchmarkGatedRead measures what the gate's UDP wrapper adds to a read
// of ChannelData, against the same read without it.
func BenchmarkGatedRead(b *testing.B) {
	inner := &fixedConn{msg: []byte{0x40, 0x01, 0x00, 0x04, 1, 2, 3, 4}, from: &net.UDPAddr{}}
	buf := make([]byte, 1600)
	b.Run("bare", func(b *testing.B) {
		var pc net.PacketConn = inner
		for b.Loop() {
			_, _, _ = pc.ReadFrom(buf)
		}
	})
	b.Run("gated", func(b *testing.B) {
		var pc net.PacketConn = &gatedPacketConn{PacketConn: inner, srv: gateServer()}
		for b.Loop() {
			_, _, _ = pc.ReadFrom(buf)
		}
	})
}

// TestGatedConnBufferEdge: an Allocate the gate answers that starts just
// before the end of the connection's gate buffer is moved to the front,
// then answered and removed; bytes that are neither STUN nor ChannelData
// make the stream unframed, and all that follows passes unexamined, the
// same Allocate included.
func TestGatedConnBufferEdge(t *testing.T) {
	s := gateServer()
	head := channelData(gatedConnBuffer - 32 - 4) // a whole frame: 32 bytes of the Allocate fit after it
	refused, after := allocateFrame(t, 0x02, ""), allocateFrame(t, 0x01, "")
	stream := append(append(append([]byte(nil), head...), refused...), after...)
	c := &chunkConn{data: stream, chunk: gatedConnBuffer}
	if out := readThrough(s, c, 4096); !bytes.Equal(out, append(append([]byte(nil), head...), after...)) || len(c.written) != 1 {
		t.Fatalf("across the buffer's end: %d of %d bytes out, %d responses; want the Allocate answered and removed",
			len(out), len(stream), len(c.written))
	}

	stream = append(append([]byte{0x80, 1, 2, 3}, refused...), after...)
	c = &chunkConn{data: stream, chunk: 7}
	if out := readThrough(s, c, 1600); !bytes.Equal(out, stream) || len(c.written) != 0 {
		t.Fatalf("after a byte that starts no frame: %d of %d bytes out, %d responses; want all passed, none answered",
			len(out), len(stream), len(c.written))
	}
}
