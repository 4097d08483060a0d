package relay

// This file holds the relay's admission rule for UDP: which replies it may
// send before a source has proved that it owns its address.

import (
	"encoding/binary"
	"hash/maphash"
	"net"
	"sync/atomic"
	"time"
)

// admission keeps the relay from being a reflector. A reply that carries
// no MESSAGE-INTEGRITY (a 401 challenge, a Binding response, any error sent
// before authentication) goes to a source address only while
//
//   - the bytes of such replies to that source stay within factor times the
//     bytes of STUN requests received from it: the anti-amplification limit
//     of a QUIC server before address validation (RFC 9000, section 8.1);
//   - and the relay as a whole stays within perSecond bytes of such replies
//     per second, so that a flood spoofed from many addresses reflects a
//     bounded total.
//
// A request pays for its own reply: the credit is added when the request is
// read, before pion answers it, so the first request from a new source is
// answered at once whenever its reply is at most factor times its size
// (turnkit's 401 to the smallest valid Allocate is 2.4 times as large).
// There is no per-source count of replies: a NAT answers as many clients as
// it hides, and a flood spoofed "from" a victim's address earns credit for
// that address rather than spending the victim's.
//
// The state has a fixed size, allocated at New: one counter of banked
// credit per bucket, the bucket chosen by a keyed hash of the source IP
// with a per-process random seed. No address is stored, nothing is
// allocated per packet, and an attacker who does not know the seed cannot
// aim two addresses at one bucket. Colliding sources share a bucket's
// credit, which can only make their replies more likely, never push one
// source past factor times what the bucket received.
//
// An admission is safe for concurrent use.
type admission struct {
	factor int32        // reply bytes earned per request byte; 0 when there is no per-source bound
	wide   *tokenBucket // relay-wide reply bytes per second; nil when uncapped
	now    func() time.Time
	seed   maphash.Seed

	replies    atomic.Uint64 // unauthenticated replies sent
	replyBytes atomic.Uint64 // their bytes
	overFactor atomic.Uint64 // replies not sent: the source had not paid for them
	overRelay  atomic.Uint64 // replies not sent: the relay-wide cap was spent
	credit     [admissionBuckets]atomic.Int32
}

const (
	// admissionBuckets is the size of the credit table: 64 Ki counters of
	// 4 bytes, 256 KiB per relay.
	admissionBuckets = 1 << 16
	// maxBanked caps the credit one bucket may bank, so that past traffic
	// pays for at most this many bytes of replies that their own requests
	// did not pay for.
	maxBanked = 4096
)

// newAdmission returns the admission rule: factor reply bytes per request
// byte per source (none when factor <= 0) and perSecond reply bytes
// relay-wide, with a burst of one second's worth (none when perSecond <=
// 0). now is the clock of the relay-wide cap. It returns nil when both
// limits are off.
func newAdmission(factor, perSecond int, now func() time.Time) *admission {
	if factor <= 0 && perSecond <= 0 {
		return nil
	}
	a := &admission{now: now, seed: maphash.MakeSeed()}
	if factor > 0 {
		a.factor = int32(min(factor, maxBanked))
	}
	if perSecond > 0 {
		a.wide = newTokenBucket(float64(perSecond), perSecond, now())
	}
	return a
}

// bucket returns the credit counter of a's source IP, or nil if a has no
// IP address.
func (a *admission) bucket(addr net.Addr) *atomic.Int32 {
	ap, ok := addrPortOf(addr)
	if !ok {
		return nil
	}
	raw := ap.Addr().As16()
	return &a.credit[maphash.Bytes(a.seed, raw[:])%admissionBuckets]
}

// received credits a STUN request of n bytes from src.
func (a *admission) received(src net.Addr, n int) {
	if a.factor == 0 {
		return
	}
	c := a.bucket(src)
	if c == nil {
		return
	}
	earned := a.factor * int32(min(n, 1<<16))
	for {
		old := c.Load()
		if old >= maxBanked || c.CompareAndSwap(old, min(old+earned, maxBanked)) {
			return
		}
	}
}

// allow reports whether an unauthenticated reply of n bytes may go to dst,
// and debits it from the source's credit and the relay-wide allowance.
func (a *admission) allow(dst net.Addr, n int) bool {
	var c *atomic.Int32
	if a.factor > 0 {
		if c = a.bucket(dst); c == nil {
			a.overFactor.Add(1)
			return false
		}
		for {
			old := c.Load()
			if old < int32(n) {
				a.overFactor.Add(1)
				return false
			}
			if c.CompareAndSwap(old, old-int32(n)) {
				break
			}
		}
	}
	if a.wide != nil && !a.wide.AllowN(a.now(), n) {
		if c != nil {
			c.Add(int32(n)) // not sent: the source keeps its credit
		}
		a.overRelay.Add(1)
		return false
	}
	a.replies.Add(1)
	a.replyBytes.Add(uint64(n))
	return true
}

// unauthenticatedResponse reports whether msg is a STUN response (success
// or error) without MESSAGE-INTEGRITY: the kind of reply an unauthenticated
// request gets. ChannelData and indications, the relayed data, are told
// apart by their first byte. It only scans the attribute headers.
func unauthenticatedResponse(msg []byte) bool {
	if len(msg) < 20 || msg[0]&0xC1 != 0x01 { // not STUN, or class bit C1 clear: request or indication
		return false
	}
	if binary.BigEndian.Uint32(msg[4:8]) != magicCookie {
		return false
	}
	for i := 20; i+4 <= len(msg); {
		typ := binary.BigEndian.Uint16(msg[i:])
		l := int(binary.BigEndian.Uint16(msg[i+2:]))
		if typ == 0x0008 || typ == 0x001C { // MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256
			return false
		}
		i += 4 + (l+3)&^3
	}
	return true
}

// isRequest reports whether a datagram of n bytes in p starts like a STUN
// request (RFC 8489 5: the top two bits zero, class bits C1 and C0 zero):
// what earns credit.
func isRequest(p []byte, n int) bool {
	return n >= 20 && p[0]&0xC1 == 0 && p[1]&0x10 == 0
}
