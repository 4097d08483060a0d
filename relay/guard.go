package relay

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// The guard checks every peer address of a CreatePermission, ChannelBind
// or Send before pion sees the message, because pion checks one address at
// a time: it grants the allowed peers of a list that also names a refused
// one, answers a refused ChannelBind with 401 (which sends clients back to
// authenticate) and binds the first of duplicate peer attributes. The guard
// refuses the whole request instead: an authenticated request gets 403
// Forbidden, signed with the credential's key; a Send indication is
// dropped; a ChannelBind with more than one peer address gets 400.

// magicCookie is the fixed STUN magic cookie (RFC 8489 5).
const magicCookie = 0x2112A442

// guardVerdict is what to do with a message from a client.
type guardVerdict int

const (
	guardPass  guardVerdict = iota // hand the message to pion
	guardDrop                      // drop it, answering nothing
	guardReply                     // drop it and send the returned response
)

// inspect decides about one message from src. It allocates only for STUN
// messages of the three guarded kinds.
func (s *Server) inspect(msg []byte, src net.Addr) (guardVerdict, []byte) {
	if len(msg) < 20 || !stun.IsMessage(msg) {
		return guardPass, nil
	}
	var mt stun.MessageType
	mt.ReadValue(binary.BigEndian.Uint16(msg[0:2]))
	method, class := mt.Method, mt.Class
	guarded := (class == stun.ClassRequest && (method == stun.MethodCreatePermission || method == stun.MethodChannelBind)) ||
		(class == stun.ClassIndication && method == stun.MethodSend)
	if !guarded {
		return guardPass, nil
	}
	m := &stun.Message{Raw: append([]byte(nil), msg...)}
	if err := m.Decode(); err != nil {
		return guardPass, nil // pion answers malformed messages itself
	}
	peers, ok := peerAddresses(m)
	code := stun.CodeForbidden
	switch {
	case !ok || len(peers) == 0:
		code = stun.CodeBadRequest
	case method == stun.MethodChannelBind && len(peers) > 1:
		code = stun.CodeBadRequest
	default:
		allowed := true
		for _, p := range peers {
			if !s.peers.permit(src, net.IP(p.Addr().AsSlice())) || (method == stun.MethodSend && !s.peers.sendable(p)) {
				allowed = false
				break
			}
		}
		if allowed {
			if s.hasRoom(m, method, peers, src) {
				return guardPass, nil
			}
			code = stun.CodeInsufficientCapacity
		}
	}
	s.stats.peerRefused.Add(1)
	if class == stun.ClassIndication {
		return guardDrop, nil
	}
	key, ok := s.requestKey(m, method)
	if !ok {
		return guardPass, nil // unauthenticated: pion answers 401 and grants nothing
	}
	resp, err := stun.Build(
		stun.NewTransactionIDSetter(m.TransactionID),
		stun.NewType(method, stun.ClassErrorResponse),
		code,
		stun.MessageIntegrity(key),
		stun.Fingerprint,
	)
	if err != nil {
		return guardDrop, nil
	}
	return guardReply, resp.Raw
}

// hasRoom checks the per-allocation caps on permissions and channels.
func (s *Server) hasRoom(m *stun.Message, method stun.Method, peers []netip.AddrPort, src net.Addr) bool {
	if method == stun.MethodSend {
		return true
	}
	c := s.connOf(src)
	if c == nil {
		return true // no allocation: pion answers 437
	}
	if method == stun.MethodChannelBind {
		v, err := m.Get(stun.AttrChannelNumber)
		if err != nil || len(v) < 2 {
			return true // pion answers 400
		}
		return c.channelRoom(binary.BigEndian.Uint16(v), s.cfg.MaxChannelsPerAllocation)
	}
	return c.permissionRoom(peers, s.cfg.MaxPermissionsPerAllocation)
}

// requestKey returns the long-term credential key of an authenticated
// request whose integrity checks out.
func (s *Server) requestKey(m *stun.Message, method stun.Method) ([]byte, bool) {
	var user stun.Username
	var realm stun.Realm
	if user.GetFrom(m) != nil || realm.GetFrom(m) != nil || !m.Contains(stun.AttrMessageIntegrity) {
		return nil, false
	}
	_, key, ok := s.authenticate(&turn.RequestAttributes{Username: user.String(), Realm: realm.String(), Method: method})
	if !ok || stun.MessageIntegrity(key).Check(m) != nil {
		return nil, false
	}
	return key, true
}

// peerAddresses decodes every XOR-PEER-ADDRESS of m, unmapped. ok is false
// if one is malformed.
func peerAddresses(m *stun.Message) ([]netip.AddrPort, bool) {
	var out []netip.AddrPort
	for _, a := range m.Attributes {
		if a.Type != stun.AttrXORPeerAddress {
			continue
		}
		ap, ok := decodeXORAddress(a.Value, m.TransactionID)
		if !ok {
			return nil, false
		}
		out = append(out, ap)
	}
	return out, true
}

// decodeXORAddress decodes an XOR-PEER-ADDRESS value (RFC 8489 14.2).
func decodeXORAddress(v []byte, tid [stun.TransactionIDSize]byte) (netip.AddrPort, bool) {
	if len(v) < 4 {
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(v[2:4]) ^ uint16(magicCookie>>16)
	var xor [16]byte
	binary.BigEndian.PutUint32(xor[0:4], magicCookie)
	copy(xor[4:], tid[:])
	switch v[1] {
	case 0x01:
		if len(v) != 8 {
			return netip.AddrPort{}, false
		}
		var ip [4]byte
		for i := range ip {
			ip[i] = v[4+i] ^ xor[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom4(ip), port), true
	case 0x02:
		if len(v) != 20 {
			return netip.AddrPort{}, false
		}
		var ip [16]byte
		for i := range ip {
			ip[i] = v[4+i] ^ xor[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom16(ip).Unmap(), port), true
	}
	return netip.AddrPort{}, false
}

// guardedPacketConn is a UDP listener whose reads pass the guard and whose
// unauthenticated replies stay within the reply budget.
type guardedPacketConn struct {
	net.PacketConn
	srv    *Server
	budget *replyBudget // nil when UnauthReplyRatio is negative
}

// WriteTo drops an unauthenticated reply the source has not paid for.
func (c *guardedPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.budget != nil && unauthenticatedResponse(p) && !c.budget.allow(addr, len(p)) {
		c.srv.stats.unauthDropped.Add(1)
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *guardedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if c.budget != nil && n >= 20 && p[0]&0xC0 == 0 {
			c.budget.received(addr, n)
		}
		switch v, resp := c.srv.inspect(p[:n], addr); v {
		case guardPass:
			return n, addr, nil
		case guardReply:
			_, _ = c.PacketConn.WriteTo(resp, addr)
		}
	}
}

// streamGuard frames a client's TCP byte stream (STUN messages and padded
// ChannelData) so the guard sees whole messages; it hands pion only the
// frames that pass.
type streamGuard struct {
	srv   *Server
	in    []byte // bytes read, not yet framed
	ready []byte // framed bytes that passed, for Read
}

// frameLen returns the length of the frame at the start of b, 0 if b does
// not hold a whole frame yet, or -1 if b does not start with a frame.
func frameLen(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	switch {
	case b[0]&0xC0 == 0:
		if len(b) < 20 {
			return 0
		}
		n := 20 + int(binary.BigEndian.Uint16(b[2:4]))
		if len(b) < n {
			return 0
		}
		return n
	case b[0]&0xC0 == 0x40:
		n := 4 + (int(binary.BigEndian.Uint16(b[2:4]))+3)&^3
		if len(b) < n {
			return 0
		}
		return n
	}
	return -1
}

// feed adds bytes read from conn and moves the complete frames that pass to
// ready; a refused request's response is written to conn.
func (g *streamGuard) feed(b []byte, conn net.Conn) {
	g.in = append(g.in, b...)
	for {
		n := frameLen(g.in)
		if n < 0 { // not a TURN stream: hand the rest to pion, which will fail it
			g.ready = append(g.ready, g.in...)
			g.in = g.in[:0]
			return
		}
		if n == 0 {
			return
		}
		frame := g.in[:n]
		switch v, resp := g.srv.inspect(frame, conn.RemoteAddr()); v {
		case guardPass:
			g.ready = append(g.ready, frame...)
		case guardReply:
			_, _ = conn.Write(resp)
		}
		g.in = append(g.in[:0], g.in[n:]...)
	}
}
