package relay

import (
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestAdmissionRule checks the arithmetic of admission with an injected
// clock: a request earns factor times its size, a reply spends its size,
// a source cannot spend what another earned (up to hash collisions), the
// bank is capped, and the relay-wide cap refunds the source when it holds
// a reply back and refills with time.
func TestAdmissionRule(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAdmission(3, 1000, func() time.Time { return now })
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5000}
	samePort := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 6000}
	other := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 5000}
	for a.bucket(other) == a.bucket(src) { // a collision, one seed in 65536
		other.IP[15]++
	}
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"reply before any request", func() bool { return a.allow(src, 68) }, false},
		{"28-byte request earns 84", func() bool { a.received(src, 28); return a.allow(src, 68) }, true},
		{"16 bytes left", func() bool { return a.allow(src, 17) }, false},
		{"the credit is the IP's, not the port's", func() bool { return a.allow(samePort, 16) }, true},
		{"another IP has none", func() bool { a.received(src, 100); return a.allow(other, 1) }, false},
		{"the bank is capped", func() bool {
			for range 1000 {
				a.received(src, 1000)
			}
			return a.allow(src, maxBanked+1)
		}, false},
		// The relay-wide burst of 1000 has 916 left.
		{"the relay-wide cap holds back a paid reply", func() bool { return a.allow(src, 917) }, false},
		{"and refunds the source", func() bool { return a.bucket(src).Load() == maxBanked }, true},
		{"what is left goes", func() bool { return a.allow(src, 916) }, true},
		{"the relay-wide burst is spent", func() bool { return a.allow(src, 1) }, false},
		{"it refills with time", func() bool { now = now.Add(100 * time.Millisecond); return a.allow(src, 100) }, true},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
	}
	if a.replies.Load() != 4 || a.replyBytes.Load() != 68+16+916+100 {
		t.Errorf("replies %d (%d bytes), want 4 (1100 bytes)", a.replies.Load(), a.replyBytes.Load())
	}
	if a.overRelay.Load() != 2 || a.overFactor.Load() != 4 {
		t.Errorf("overRelay %d, overFactor %d; want 2 and 4", a.overRelay.Load(), a.overFactor.Load())
	}
}

// TestAdmissionOff: with both limits off there is no admission; with the
// factor off, only the relay-wide cap applies.
func TestAdmissionOff(t *testing.T) {
	if a := newAdmission(-1, -1, time.Now); a != nil {
		t.Fatal("admission with both limits off")
	}
	a := newAdmission(-1, 100, time.Now)
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5000}
	if !a.allow(src, 100) || a.allow(src, 100) {
		t.Fatal("without the factor, only the relay-wide cap should count")
	}
}

// TestAdmissionNoAllocs: crediting and spending allocate nothing, for any
// number of distinct sources: admission's state is a fixed table.
func TestAdmissionNoAllocs(t *testing.T) {
	a := newAdmission(3, 1<<30, time.Now)
	addrs := make([]net.Addr, 4096)
	for i := range addrs {
		addrs[i] = &net.UDPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)), Port: 3478}
	}
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		addr := addrs[i%len(addrs)]
		i++
		a.received(addr, 28)
		a.allow(addr, 68)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per request and reply", allocs)
	}
}

// TestUnauthenticatedResponse tells the replies admission counts from
// everything else, including malformed messages.
func TestUnauthenticatedResponse(t *testing.T) {
	key := stun.NewShortTermIntegrity("pass")
	build := func(setters ...stun.Setter) []byte {
		return stun.MustBuild(append([]stun.Setter{stun.TransactionID}, setters...)...).Raw
	}
	challenge := build(stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), stun.CodeUnauthorized, stun.NewRealm("turnkit"), stun.NewNonce("n"))
	truncated := append([]byte(nil), challenge...)
	truncated[len(truncated)-5] = 0xFF // the last attribute claims more than the message holds
	cases := []struct {
		name string
		msg  []byte
		want bool
	}{
		{"401 challenge", challenge, true},
		{"Binding success", build(stun.BindingSuccess, &stun.XORMappedAddress{IP: net.IPv4(192, 0, 2, 1), Port: 1}), true},
		{"signed success", build(stun.NewType(stun.MethodAllocate, stun.ClassSuccessResponse), key), false},
		{"signed error", build(stun.NewType(stun.MethodCreatePermission, stun.ClassErrorResponse), stun.CodeForbidden, key), false},
		{"request", build(stun.BindingRequest), false},
		{"Data indication", build(stun.NewType(stun.MethodData, stun.ClassIndication)), false},
		{"ChannelData", []byte{0x40, 0x01, 0x00, 0x10, 0x01, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{"short", challenge[:19], false},
		{"no magic cookie", append([]byte{0x01, 0x13, 0, 0, 0, 0, 0, 0}, make([]byte, 12)...), false},
		{"attribute past the end", truncated, true},
	}
	for _, tc := range cases {
		if got := unauthenticatedResponse(tc.msg); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if !isRequest(build(stun.BindingRequest), 20) || isRequest(challenge, len(challenge)) || isRequest(challenge, 19) {
		t.Error("isRequest misjudges a request, a response or a short datagram")
	}
}

// TestFrameLen checks the stream framing at its boundaries: a STUN header
// judged byte by byte as it arrives, ChannelData only on a connection with
// an allocation.
func TestFrameLen(t *testing.T) {
	binding := stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw
	withAttr := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw
	odd := append([]byte(nil), binding...)
	odd[3] = 2
	cases := []struct {
		name        string
		b           []byte
		channelData bool
		want        int
	}{
		{"empty", nil, false, 0},
		{"one byte", binding[:1], false, 0},
		{"three bytes", binding[:3], false, 0},
		{"four bytes", binding[:4], false, 0},
		{"cookie's first byte", binding[:5], false, 0},
		{"header less one", binding[:19], false, 0},
		{"Binding", binding, false, 20},
		{"Binding and more", append(append([]byte(nil), binding...), 0x00, 0x01), false, 20},
		{"attributes not all in", withAttr[:25], false, 0},
		{"with FINGERPRINT", withAttr, false, 28},
		{"length not a multiple of 4", odd[:4], false, -1},
		{"wrong cookie byte 4", []byte{0, 1, 0, 0, 0x22}, false, -1},
		{"wrong cookie byte 7", []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x43}, false, -1},
		{"TLS ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, false, -1},
		{"top bits 10", []byte{0x80, 0, 0, 0}, true, -1},
		{"top bits 11", []byte{0xC0}, true, -1},
		{"GET without allocation", []byte("GET "), false, -1},
		{"ChannelData without allocation", []byte{0x40, 0x00, 0x00, 0x01, 'x', 0, 0, 0}, false, -1},
		{"ChannelData, padded", []byte{0x40, 0x00, 0x00, 0x01, 'x', 0, 0, 0}, true, 8},
		{"ChannelData, header only", []byte{0x40, 0x00, 0x00}, true, 0},
		{"ChannelData, padding not in", []byte{0x40, 0x00, 0x00, 0x01, 'x'}, true, 0},
		{"ChannelData, empty", []byte{0x7F, 0xFF, 0x00, 0x00}, true, 4},
	}
	for _, tc := range cases {
		if got := frameLen(tc.b, tc.channelData); got != tc.want {
			t.Errorf("%s: frameLen = %d, want %d", tc.name, got, tc.want)
		}
	}
}
