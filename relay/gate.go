package relay

import (
	"encoding/binary"
	"net"

	"github.com/pion/stun/v4"
)

// The request gate answers two requests before pion sees them, because
// pion cannot answer them right:
//
//   - An Allocate for an address family the relayed sockets cannot bind:
//     REQUESTED-ADDRESS-FAMILY IPv4 on a relay whose RelayIP is IPv6, or the
//     reverse, or, without the attribute, the family pion defaults to (the
//     listener's). pion asks the relay address generator, which cannot open
//     the socket, and answers 508 Insufficient Capacity, which tells the
//     client to try again later. RFC 8656 section 7.2 wants 440 Address
//     Family not Supported, which the gate answers instead.
//   - A Refresh with a non-zero lifetime from an app the Admitter refuses.
//     pion's auth handler does not see the lifetime, so it cannot tell a
//     refresh, which a paused app may not make, from a deallocation
//     (lifetime 0), which is always allowed. The gate answers 403
//     Forbidden.
//
// Both answers are signed with the credential's key, so only a request
// that authenticates gets one; any other goes on to pion, which answers it
// (a 401, usually) as before. The gate reads the first two bytes of every
// message and decodes only Allocate and Refresh requests: relayed data
// costs it two comparisons.

// maxGatedFrame bounds the requests the gate examines on a stream; pion's
// listeners read at most 1600 bytes, and an Allocate or Refresh is far
// smaller.
const maxGatedFrame = 1600

// gated reports whether msg is long enough for a STUN message and starts
// like an Allocate or a Refresh request.
func gated(msg []byte) bool { return len(msg) >= 20 && gatedType(msg) }

// gatedType reports whether the message type in b[0:2] is that of an
// Allocate (0x0003) or a Refresh (0x0004) request. len(b) >= 2.
func gatedType(b []byte) bool { return b[0] == 0 && (b[1] == 0x03 || b[1] == 0x04) }

// gate decides about a message from src received on the listener at local:
// it returns the response to send instead of handing the message to pion,
// or nil to hand it on.
func (s *Server) gate(msg []byte, src, local net.Addr) []byte {
	if !gated(msg) {
		return nil
	}
	m := &stun.Message{Raw: append([]byte(nil), msg...)}
	if m.Decode() != nil || m.Type.Class != stun.ClassRequest || !m.Contains(stun.AttrMessageIntegrity) {
		return nil
	}
	var code stun.ErrorCode
	switch m.Type.Method {
	case stun.MethodAllocate:
		fam, ok := requestedFamily(m, src, local)
		if !ok || fam == s.relayFamily() {
			return nil
		}
		code = stun.CodeAddrFamilyNotSupported
	case stun.MethodRefresh:
		if s.cfg.Admitter == nil || deallocates(m) {
			return nil
		}
		code = stun.CodeForbidden
	default:
		return nil
	}
	var user stun.Username
	var realm stun.Realm
	if user.GetFrom(m) != nil || realm.GetFrom(m) != nil {
		return nil
	}
	method := methodOf(m.Type.Method)
	id, key, err := s.identify(user.String(), realm.String(), method)
	if err != nil || stun.MessageIntegrity(key).Check(m) != nil {
		return nil // pion answers 401
	}
	if method == MethodAllocate {
		if s.authorize(user.String(), method, id) != nil {
			return nil // refused as an Allocate: pion answers 401
		}
	} else {
		if s.admit(user.String(), method, id) == nil {
			return nil
		}
		s.stats.authFailures.Add(1)
	}
	return signedError(m, code, key)
}

// signedError returns the error response with code to the request m,
// signed with key, as the gate and the guard answer; nil if it cannot be
// built.
func signedError(m *stun.Message, code stun.ErrorCode, key []byte) []byte {
	resp, err := stun.Build(
		stun.NewTransactionIDSetter(m.TransactionID),
		stun.NewType(m.Type.Method, stun.ClassErrorResponse),
		code,
		stun.MessageIntegrity(key),
		stun.Fingerprint,
	)
	if err != nil {
		return nil
	}
	return resp.Raw
}

// STUN address family numbers (RFC 8656 18.8).
const (
	familyIPv4 = 0x01
	familyIPv6 = 0x02
)

// relayFamily is the address family of the relayed addresses: RelayIP's.
func (s *Server) relayFamily() byte {
	if s.cfg.RelayIP.Is4() {
		return familyIPv4
	}
	return familyIPv6
}

// requestedFamily returns the address family an Allocate asks for, as
// pion reads it: REQUESTED-ADDRESS-FAMILY, or else the family of the
// listener's address (of the client's, on a listener bound to the
// unspecified address). ok is false for a malformed or unknown family,
// which pion answers itself.
func requestedFamily(m *stun.Message, src, local net.Addr) (byte, bool) {
	v, err := m.Get(stun.AttrRequestedAddressFamily)
	if err == nil {
		if len(v) != 4 || (v[0] != familyIPv4 && v[0] != familyIPv6) {
			return 0, false
		}
		return v[0], true
	}
	ap, ok := addrPortOf(local)
	if ok && ap.Addr().IsUnspecified() {
		ap, ok = addrPortOf(src)
	}
	if !ok {
		return familyIPv4, true
	}
	if ap.Addr().Is4() {
		return familyIPv4, true
	}
	return familyIPv6, true
}

// deallocates reports whether a Refresh asks for lifetime 0. pion takes a
// missing or malformed LIFETIME as the default lifetime.
func deallocates(m *stun.Message) bool {
	v, err := m.Get(stun.AttrLifetime)
	return err == nil && len(v) == 4 && binary.BigEndian.Uint32(v) == 0
}
