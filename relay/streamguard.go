package relay

// This file frames a client's TCP or TLS byte stream into STUN messages and
// ChannelData, so the guard sees whole messages and bytes that are neither
// end the connection at once.

import (
	"encoding/binary"
	"errors"
	"net"
)

// errNotTURN ends a TCP or TLS connection whose bytes are neither STUN nor
// ChannelData: an HTTP request, a TLS record on the plain port, a scanner's
// probe.
var errNotTURN = errors.New("turnkit: stream is not STUN or ChannelData")

// streamGuard frames a client's TCP byte stream (STUN messages and padded
// ChannelData) so the guard sees whole messages; it hands pion only the
// frames that pass. It is used by the one goroutine that reads the
// connection.
type streamGuard struct {
	srv   *Server
	in    []byte // bytes read, not yet framed
	ready []byte // framed bytes that passed, for Read
	spare []byte // the largest buffer ready has had, from its start: reused once Read has emptied ready
	err   error  // errNotTURN once the stream went wrong; sticky
}

// frameLen returns the length of the frame at the start of b, 0 if b does
// not hold a whole frame yet, or -1 if b cannot start a frame.
//
// A STUN header is recognised as its bytes arrive: the top two bits zero,
// a length that is a multiple of four (RFC 8489 5: attributes are padded)
// and the magic cookie, compared byte by byte, so a TLS ClientHello (16 03
// 01 …) fails at its fifth or sixth byte. ChannelData (top bits 01, RFC
// 8656 12) is accepted only when channelData is set: a client sends it
// only once it holds an allocation and a channel, so before that, a first
// byte in 0x40-0x7F is "GET ", "POST", "HEAD" or another text protocol.
func frameLen(b []byte, channelData bool) int {
	if len(b) == 0 {
		return 0
	}
	switch {
	case b[0]&0xC0 == 0:
		for i := 4; i < min(len(b), 8); i++ {
			if b[i] != byte(uint32(magicCookie)>>(8*(7-i))) {
				return -1
			}
		}
		if len(b) < 4 {
			return 0
		}
		l := int(binary.BigEndian.Uint16(b[2:4]))
		if l%4 != 0 {
			return -1
		}
		if len(b) < 20+l {
			return 0
		}
		return 20 + l
	case b[0]&0xC0 == 0x40 && channelData:
		if len(b) < 4 {
			return 0
		}
		n := 4 + (int(binary.BigEndian.Uint16(b[2:4]))+3)&^3
		if len(b) < n {
			return 0
		}
		return n
	}
	return -1
}

// feed adds bytes read from conn and moves the complete frames that pass to
// ready; a refused request's response is written to conn. channelData says
// whether the connection holds an allocation, and so may carry
// ChannelData. After bytes that cannot start a frame, feed keeps nothing
// more and g.err is errNotTURN.
func (g *streamGuard) feed(b []byte, conn net.Conn, channelData bool) {
	if g.err != nil {
		return
	}
	g.in = append(g.in, b...)
	off := 0 // g.in[:off] is framed; the rest moves to the front once, when feed returns
	for {
		n := frameLen(g.in[off:], channelData)
		if n < 0 {
			g.err = errNotTURN
			g.in = g.in[:0]
			return
		}
		if n == 0 {
			g.in = append(g.in[:0], g.in[off:]...)
			return
		}
		frame := g.in[off : off+n]
		switch v, resp := g.srv.inspect(frame, conn.RemoteAddr()); v {
		case guardPass:
			if len(g.ready) == 0 {
				g.ready = g.spare[:0] // Read emptied it: start over at its buffer's beginning
			}
			g.ready = append(g.ready, frame...)
			if cap(g.ready) > cap(g.spare) {
				g.spare = g.ready[:0] // append moved ready to a larger buffer: keep that one
			}
		case guardReply:
			_, _ = conn.Write(resp)
		}
		off += n
	}
}
