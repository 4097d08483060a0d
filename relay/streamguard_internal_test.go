package relay

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestStreamGuardChunks: a stream of many frames, fed in chunks of every
// size from one byte to the whole stream, passes whole and in order, with
// nothing left over, whatever frame boundaries the chunks cut.
func TestStreamGuardChunks(t *testing.T) {
	var stream []byte
	for i := range 40 {
		if i%5 == 0 {
			stream = append(stream, must(stun.Build(stun.TransactionID, stun.BindingRequest)).Raw...)
			continue
		}
		n := 1 + i*7
		cd := channelData(n)
		stream = append(stream, cd...)
		stream = append(stream, make([]byte, (n+3)&^3-n)...) // padded, as on a stream
	}
	srv := &Server{cfg: Config{Realm: "turnkit", Now: time.Now}}
	policy, _ := NewPeerPolicy(nil, nil)
	srv.peers = newPeerRules(policy, nil)
	conn := &memStream{}
	for step := 1; step <= len(stream); step += 1 + step/8 {
		g := streamGuard{srv: srv}
		var out []byte
		for i := 0; i < len(stream); i += step {
			g.feed(stream[i:min(i+step, len(stream))], conn, true)
			out = append(out, g.ready...)
			g.ready = g.ready[:0]
		}
		if g.err != nil || len(g.in) != 0 || !bytes.Equal(out, stream) {
			t.Fatalf("chunks of %d bytes: %d of %d bytes passed (equal: %v), %d held, err %v",
				step, len(out), len(stream), bytes.Equal(out, stream), len(g.in), g.err)
		}
	}
}

// failingStream is a TCP connection whose writes fail.
type failingStream struct{ memStream }

var errWriteFailed = errors.New("write failed")

func (*failingStream) Write([]byte) (int, error) { return 0, errWriteFailed }

// TestTrackedConnWriteError: a failed write of ChannelData, padded or as
// it is, returns the connection's error and no bytes.
func TestTrackedConnWriteError(t *testing.T) {
	c := &trackedConn{Conn: &failingStream{}}
	for _, p := range [][]byte{channelData(1000), channelData(1001)} {
		if n, err := c.Write(p); n != 0 || !errors.Is(err, errWriteFailed) {
			t.Fatalf("Write of %d bytes: %d, %v; want 0 and the connection's error", len(p), n, err)
		}
	}
	var _ net.Conn = c
}
