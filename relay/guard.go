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
//
// A peer on the relay's own host is refused unless it is the relayed
// address of a live allocation: pion's permissions are per IP, so without
// the guard a CreatePermission for one of the host's ports would be granted
// for the whole IP once another allocation lives there, and the packets
// then dropped one by one. The guard answers it with 403 instead.

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
			// permit judges the IP, as pion's permissions do; sendable also
			// judges the port on the relay's own host, where only live
			// relayed addresses are reachable.
			if !s.peers.permit(src, net.IP(p.Addr().AsSlice())) || !s.peers.sendable(p) {
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
	resp := signedError(m, code, key)
	if resp == nil {
		return guardDrop, nil
	}
	return guardReply, resp
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
