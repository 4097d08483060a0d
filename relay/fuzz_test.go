package relay

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

type fuzzSecrets struct{}

func (fuzzSecrets) Secret(id string, _ time.Time) ([]byte, bool) {
	return []byte("fuzz-secret-0123456789"), id == "k1"
}

// FuzzRelayDatagram sends arbitrary datagrams to a running relay and runs
// them through the guard: nothing panics, the guard never passes a guarded
// request it could not decode as refused, and the relay still answers a
// STUN Binding request afterwards.
func FuzzRelayDatagram(f *testing.F) {
	seeds := [][]byte{
		{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, // Binding
		{0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4},                                                    // ChannelData
		{0x00, 0x08, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
			0x00, 0x12, 0x00, 0x08, 0x00, 0x01, 0x21, 0x12, 0x5e, 0x12, 0xa4, 0x43}, // CreatePermission, XOR-PEER-ADDRESS
		{0x00, 0x16, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, // Send indication, no peer
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// The liveness check below sends a Binding request per input from one
	// source, under the default admission: each request pays for its reply.
	s, err := New(Config{UDPAddrs: []string{"127.0.0.1:0"}, Secrets: fuzzSecrets{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = conn.Close() })
	server := s.UDPAddrs()[0]
	client, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: server.String(), Conn: conn, RTO: 20 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(client.Close)
	if err := client.Listen(); err != nil {
		f.Fatal(err)
	}
	src := conn.LocalAddr()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, resp := s.inspect(data, src)
		if v == guardReply {
			var m stun.Message
			if err := stun.Decode(resp, &m); err != nil || m.Type.Class != stun.ClassErrorResponse {
				t.Fatalf("guard reply is not a STUN error response: %x", resp)
			}
		}
		if _, err := conn.WriteTo(data, server); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			if _, err := client.SendBindingRequestTo(server); err == nil {
				return
			}
		}
		t.Fatalf("the relay stopped answering after %x", data)
	})
}

// FuzzStreamGuard feeds arbitrary bytes, in arbitrary chunks, to the TCP
// stream guard, on a connection with or without an allocation: nothing
// panics, it never hands pion more bytes than came in, what it hands pion
// is a run of whole frames, and once it has refused the stream it holds
// nothing more.
func FuzzStreamGuard(f *testing.F) {
	f.Add([]byte{0x40, 0x00, 0x00, 0x01, 'h', 0, 0, 0, 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(3), true)
	f.Add([]byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x40, 0x00, 0x00, 0x02, 'h', 'i', 0, 0}, uint8(7), false)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint8(1), false)
	f.Add([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, uint8(2), false) // TLS ClientHello
	f.Add([]byte{0x00, 0x01, 0x00}, uint8(1), false)                                                 // truncated STUN header
	srv := &Server{cfg: Config{Realm: "turnkit", Secrets: fuzzSecrets{}, Now: time.Now}}
	policy, _ := NewPeerPolicy(nil, nil)
	srv.peers = newPeerRules(policy, nil)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, channelData bool) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go func() { _, _ = readAll(b) }()
		g := streamGuard{srv: srv}
		step := int(chunk%64) + 1
		for i := 0; i < len(data); i += step {
			g.feed(data[i:min(i+step, len(data))], a, channelData)
		}
		if len(g.ready)+len(g.in) > len(data) {
			t.Fatalf("guard holds %d+%d bytes from %d in", len(g.ready), len(g.in), len(data))
		}
		if g.err != nil && len(g.in) > 0 {
			t.Fatalf("guard refused the stream but holds %d bytes", len(g.in))
		}
		for r := g.ready; len(r) > 0; {
			n := frameLen(r, channelData)
			if n <= 0 {
				t.Fatalf("guard handed on bytes that are not whole frames: %x", r)
			}
			r = r[n:]
		}
	})
}

func readAll(c net.Conn) (int, error) {
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := c.Read(buf)
		total += n
		if err != nil {
			return total, err
		}
	}
}
