package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/pion/stun/v4"
)

// Addresses as pion holds them.
var (
	client4 = &net.UDPAddr{IP: net.ParseIP("192.0.2.10"), Port: 50000}            // 16-byte net.IP, as net returns it
	client6 = &net.UDPAddr{IP: net.ParseIP("2001:db8::7"), Port: 3478}            // bracketed with its port
	zoned   = &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 9, Zone: "eth0"}     // link-local with a zone
	mapped4 = &net.UDPAddr{IP: net.ParseIP("::ffff:198.51.100.7"), Port: 40001}   // prints as IPv4
	tcpPeer = &net.TCPAddr{IP: net.ParseIP("203.0.113.9"), Port: 443}             // TCP allocations
	wild6   = &net.UDPAddr{IP: net.IPv6unspecified, Port: 3478}                   // a listener's LocalAddr
	relay4  = &net.UDPAddr{IP: net.ParseIP("100.64.1.2").To4(), Port: 49152}      // 4-byte net.IP
	peerIP  = net.ParseIP("10.1.2.3")                                             // peerAddress.IP
	peerIP6 = net.ParseIP("fd00:ec2::254")                                        // peerAddress.IP, IPv6
	xorPeer = stun.XORMappedAddress{IP: net.ParseIP("2001:db8:1::9"), Port: 6000} // proto.PeerAddress.String()
)

// allocFiveTuple mirrors pion's allocation.FiveTuple: it embeds Protocol,
// whose String method is promoted, so pion's "%v" of a five-tuple prints
// only "UDP" and no address.
type allocFiveTuple struct {
	allocProtocol
	SrcAddr, DstAddr net.Addr
}

type allocProtocol uint8

func (allocProtocol) String() string { return "UDP" }

// pionShapes are messages as pion/turn v5.1.3 formats them: the format
// string of a real log call (file:line in the name) with arguments of the
// types pion passes, and what turnkit logs.
func pionShapes() []struct{ name, in, want string } {
	opErr := &net.OpError{Op: "write", Net: "udp4", Source: relay4, Addr: &net.UDPAddr{IP: net.IPv6loopback, Port: 9},
		Err: errors.New("address ::1: non-IPv4 address")}
	readErr := &net.OpError{Op: "read", Net: "udp", Source: wild6, Err: net.ErrClosed}
	noAlloc := fmt.Errorf("%w %v:%v", errors.New("no allocation found"), client4, wild6)
	channelErr := fmt.Errorf("%w from %v: %v", errors.New("unable to handle ChannelData"), client6, noAlloc)
	return []struct{ name, in, want string }{
		{"server/stun.go:12", fmt.Sprintf("Received BindingRequest from %s", client4),
			"Received BindingRequest from [addr]"},
		{"server/server.go:49", fmt.Sprintf("Received %d bytes of udp from %s on %s", 120, client6, wild6),
			"Received 120 bytes of udp from [addr] on [addr]"},
		{"server/server.go:59", fmt.Sprintf("Received DataPacket from %s", zoned.String()),
			"Received DataPacket from [addr]"},
		{"server/server.go:133", fmt.Sprintf("%v-%v with unknown comprehension-required attributes from %v: %v",
			stun.MethodAllocate, stun.ClassRequest, mapped4, []stun.AttrType{0x7f01}),
			"Allocate-request with unknown comprehension-required attributes from [addr]: [0x7f01]"},
		{"server/turn.go:390", fmt.Sprintf("peer address family mismatch for client %s to peer %s", client4, peerIP6),
			"peer address family mismatch for client [addr] to peer [addr]"},
		{"server/turn.go:397", fmt.Sprintf("permission denied for client %s to peer %s", client6, peerIP),
			"permission denied for client [addr] to peer [addr]"},
		{"server/turn.go:403", fmt.Sprintf("Adding permission for %s", net.JoinHostPort(net.ParseIP("::ffff:127.0.0.1").String(), "0")),
			"Adding permission for [addr]"},
		{"server/turn.go:403/v6", fmt.Sprintf("Adding permission for %s", net.JoinHostPort(peerIP6.String(), "5000")),
			"Adding permission for [addr]"},
		{"server/turn.go:544", fmt.Sprintf("Binding channel %d to %s", 0x4000, xorPeer),
			"Binding channel 16384 to [addr]"},
		{"server/turn.go:553", fmt.Sprintf("ChannelBind rejected: peer %s already bound to channel %d, attempted %d",
			zoned.String(), uint16(0x4001), uint16(0x4002)),
			"ChannelBind rejected: peer [addr] already bound to channel 16385, attempted 16386"},
		{"server/turn.go:565", fmt.Sprintf("ChannelBind rejected: channel %d already bound to peer %s, attempted peer %s",
			uint16(0x4001), client4.String(), xorPeer.String()),
			"ChannelBind rejected: channel 16385 already bound to peer [addr], attempted peer [addr]"},
		{"server.go:259", fmt.Sprintf("Exit read loop on error: %s", readErr),
			"Exit read loop on error: read udp [addr]: use of closed network connection"},
		{"server.go:287/no-allocation", fmt.Sprintf("Failed to handle datagram: %v", channelErr),
			"Failed to handle datagram: unable to handle ChannelData from [addr]: no allocation found [addr]:[addr]"},
		{"server.go:287/op-error", fmt.Sprintf("Failed to handle datagram: %v", opErr),
			"Failed to handle datagram: write udp4 [addr]->[addr]: address [addr]: non-IPv4 address"},
		{"allocation.go:251", fmt.Sprintf("Failed to reset allocation timer for %v", &allocFiveTuple{0, client4, relay4}),
			"Failed to reset allocation timer for UDP"},
		{"allocation.go:383", fmt.Sprintf("Relay socket %s received %d bytes from %s", relay4, 1200, mapped4),
			"Relay socket [addr] received 1200 bytes from [addr]"},
		{"allocation.go:396", fmt.Sprintf("Failed to send ChannelData from allocation %v %v", client6, opErr),
			"Failed to send ChannelData from allocation [addr] write udp4 [addr]->[addr]: address [addr]: non-IPv4 address"},
		{"allocation.go:420", fmt.Sprintf("Relaying message from %s to client at %s", tcpPeer, zoned),
			"Relaying message from [addr] to client at [addr]"},
		{"allocation.go:427", fmt.Sprintf("No Permission or Channel exists for %v on allocation %v", mapped4, relay4),
			"No Permission or Channel exists for [addr] on allocation [addr]"},
		{"allocation.go:452", fmt.Sprintf("Relay %s: no permission for inbound peer %s, closing connection", tcpPeer, tcpPeer.IP),
			"Relay [addr]: no permission for inbound peer [addr], closing connection"},
		{"channel_bind.go:37/%x", fmt.Sprintf("Failed to remove ChannelBind for %v %x %v", 0x4000, net.Addr(client4), &allocFiveTuple{0, client4, relay4}),
			"Failed to remove ChannelBind for 16384 [addr] UDP"},
		{"channel_bind.go:44/%x-v6", fmt.Sprintf("Failed to reset ChannelBind timer for %v %x %v", 0x4000, net.Addr(zoned), &allocFiveTuple{0, client4, relay4}),
			"Failed to reset ChannelBind timer for 16384 [addr] UDP"},
		{"allocation_manager.go:233", fmt.Sprintf("Listening on relay address: %s", relay4),
			"Listening on relay address: [addr]"},
		{"lt_cred.go:61", fmt.Sprintf("Authentication username=%q realm=%q srcAddr=%v", "1767225600:demo_k1", "turnkit", client6),
			`Authentication username="1767225600:demo_k1" realm="turnkit" srcAddr=[addr]`},
		{"client.go:625", fmt.Sprintf("Start %s transaction %s to %s", stun.BindingRequest, "AAECAwQFBgcICQoL", client4),
			"Start Binding request transaction AAECAwQFBgcICQoL to [addr]"},
		{"client.go:857", fmt.Sprintf("Channel data received from %s (ch=%d)", client6.String(), 16384),
			"Channel data received from [addr] (ch=16384)"},
		{"tcp_alloc.go:105", fmt.Sprintf("Send connect request (peer=%v)", tcpPeer),
			"Send connect request (peer=[addr])"},
		{"udp_conn.go:606", fmt.Sprintf("Channel binding successful: %s %d", client4, 16384),
			"Channel binding successful: [addr] 16384"},
	}
}

func TestRedactPionShapes(t *testing.T) {
	for _, tc := range pionShapes() {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactAddrs(tc.in); got != tc.want {
				t.Errorf("redactAddrs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRedactForms covers the ways an address is written, alone and in
// the middle of other text.
func TestRedactForms(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"v4", "1.2.3.4", "[addr]"},
		{"v4-port", "1.2.3.4:5", "[addr]"},
		{"v4-five-tuple", "udp4 1.2.3.4:5->6.7.8.9:10", "udp4 [addr]->[addr]"},
		{"v6", "2001:db8::1", "[addr]"},
		{"v6-full", "2001:0db8:0000:0000:0000:0000:0000:0001", "[addr]"},
		{"v6-bracket-port", "[::1]:3478", "[addr]"},
		{"v6-bracket-no-port", "[2001:db8::1]", "[addr]"},
		{"v6-unspecified", "listening on [::]:3478", "listening on [addr]"},
		{"v6-zone", "fe80::1%eth0 is up", "[addr] is up"},
		{"v6-zone-bracket-port", "from [fe80::1%eth0]:9", "from [addr]"},
		{"v6-zone-url-escaped", "http://[fe80::1%25en0]:80/", "http://[addr]/"},
		{"v6-zone-vlan", "fe80::1%eth0.100 up", "[addr] up"},
		{"v6-zone-sentence-end", "via fe80::1%eth0.", "via [addr]."},
		{"mapped", "peer ::ffff:169.254.169.254, again", "peer [addr], again"},
		{"mapped-hex", "peer ::ffff:a9fe:a9fe", "peer [addr]"},
		{"mapped-bracket-port", "[::ffff:192.0.2.1]:5", "[addr]"},
		{"compatible", "::192.0.2.1", "[addr]"},
		{"nat64", "64:ff9b::192.0.2.1", "[addr]"},
		{"embedded-v4-full", "1:2:3:4:5:6:1.2.3.4", "[addr]"},
		{"dead-beef-is-ipv6", "dead:beef::1 is IPv6", "[addr] is IPv6"},
		{"uppercase-v6", "2001:DB8::A", "[addr]"},
		{"struct-dump-pointer", fmt.Sprintf("%v", &struct {
			P    uint8
			S, D net.Addr
		}{1, client4, zoned}), "&{1 [addr] [addr]}"},
		{"struct-dump-fields", fmt.Sprintf("%+v", *client4), "{IP:[addr] Port:50000 Zone:}"},
		{"struct-dump-named", fmt.Sprintf("%+v", struct{ SrcAddr, DstAddr net.Addr }{client4, client6}),
			"{SrcAddr:[addr] DstAddr:[addr]}"},
		{"quoted", fmt.Sprintf("%q", client4), `"[addr]"`},
		{"hex-lower", fmt.Sprintf("%x", net.Addr(client4)), "[addr]"},
		{"hex-upper-v6", fmt.Sprintf("peer %X.", net.Addr(zoned)), "peer [addr]."},
		{"hex-ip", fmt.Sprintf("%x", peerIP.String()), "[addr]"},
		{"glued-to-word", "addr:1.2.3.4,peer=5.6.7.8;x", "addr:[addr],peer=[addr];x"},
		{"glued-to-hex", "cafe1.2.3.4", "cafe[addr]"},
		{"sentence-end-v4", "to 1.2.3.4.", "to [addr]."},
		{"sentence-end-v6", "to 2001:db8::1.", "to [addr]."},
		{"colon-no-port", "to 1.2.3.4: done", "to [addr]: done"},
		{"two-v4-in-a-row", "1.2.3.4.5.6.7.8", "[addr].[addr]"},
		{"ipv6-port-ambiguous", "1:2:3:4:5:6:7:8:80", "[addr]"},
		{"unicode-around", "héllo 1.2.3.4 ü", "héllo [addr] ü"},
		{"version-with-four-parts", "version 1.2.3.4", "version [addr]"}, // indistinguishable from an address
		{"double-colon-word", "std::vector", "st[addr]vector"},           // "d::" is an IPv6 address
		{"triple-colon", ":::", "[addr]:"},                               // "::" is
		{"address-inside-a-number", "256.1.1.1", "2[addr]"},              // "56.1.1.1" is
		{"octet-too-big-at-end", "1.2.3.999", "[addr]9"},                 // "1.2.3.99" is
		{"nine-groups", "1:2:3:4:5:6:7:8:9", "[addr]"},                   // eight groups, and a port
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactAddrs(tc.in); got != tc.want {
				t.Errorf("redactAddrs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRedactKeepsText: ordinary text that is no address comes back as it
// was, byte for byte.
func TestRedactKeepsText(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"port", "listening on port 3478"},
		{"bytes", "Received 10 bytes"},
		{"time", "at 12:30:45"},
		{"time-fraction", "at 12:30:45.123456"},
		{"rfc3339", "2026-11-23T07:43:00Z"},
		{"duration", "took 1m30.5s"},
		{"version", "pion/turn v5.1.3 on go1.26.8"},
		{"decimal", "ratio 0.5, pi 3.14159"},
		{"three-part-number", "1.5.2"},
		{"hex-tid", "transaction 0a1b2c3d4e5f60718293a4b5 done"},
		{"hex-tid-colon", "transaction 0a1b2c3d4e5f: done"},
		{"hex-prefixed", "value 0xdeadbeef"},
		{"sha", "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{"base64-tid", "Binding request l=0 attrs=2 id=AAECAwQFBgcICQoL, attr0=USERNAME attr1=NONCE "},
		{"uuid", "uuid 123e4567-e89b-12d3-a456-426614174000"},
		{"mac", "MAC aa:bb:cc:dd:ee:ff"},
		{"username", "user 1767225600:demo_k1.n failed"},
		{"error-code", "error 438: Stale Nonce"},
		{"channel", "ch=16384 lifetime=600"},
		{"short-colon-hex", "a:b 1:2:3 ab:cd:ef"},
		{"seven-groups", "1:2:3:4:5:6:7"},
		{"v4-octet-too-big", "256.256.256.256"},
		{"v4-leading-zero", "01.02.03.04"},
		{"unicode", "naïve café ☕"},
		{"invalid-utf8", "\xff\xfe 12:30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactAddrs(tc.in); got != tc.in {
				t.Errorf("redactAddrs(%q) = %q, want it unchanged", tc.in, got)
			}
		})
	}
}

// TestRedactLimits records what is not recognised: addresses printed as
// numbers. pion's log calls print none of these (they would need %v of a
// struct with an unexported net.IP or netip.Addr field).
func TestRedactLimits(t *testing.T) {
	for _, in := range []string{
		fmt.Sprintf("%v", struct{ ip net.IP }{net.IP{192, 0, 2, 1}}), // {[192 0 2 1]}
		fmt.Sprintf("%d", []byte(net.IP{192, 0, 2, 1})),              // [192 0 2 1]
	} {
		if got := redactAddrs(in); got != in {
			t.Errorf("redactAddrs(%q) = %q; update the doc comment, which says this is kept", in, got)
		}
	}
}

// recorder is a slog.Handler that keeps records.
type recorder struct {
	level slog.Level
	attrs []slog.Attr
	mu    *sync.Mutex
	recs  *[]slog.Record
	asked *int // Enabled calls
}

func newRecorder(level slog.Level) recorder {
	return recorder{level: level, mu: &sync.Mutex{}, recs: new([]slog.Record), asked: new(int)}
}

func (r recorder) Enabled(_ context.Context, l slog.Level) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.asked++
	return l >= r.level
}

func (r recorder) Handle(_ context.Context, rec slog.Record) error {
	rec.AddAttrs(r.attrs...)
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.recs = append(*r.recs, rec)
	return nil
}

func (r recorder) WithAttrs(as []slog.Attr) slog.Handler {
	r.attrs = append(append([]slog.Attr(nil), r.attrs...), as...)
	return r
}

func (r recorder) WithGroup(string) slog.Handler { return r }

func (r recorder) records() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slog.Record(nil), *r.recs...)
}

func TestLoggerLevels(t *testing.T) {
	rec := newRecorder(slog.Level(-100))
	l := newLogFactory(slog.New(rec)).NewLogger("turn")
	calls := []struct {
		name  string
		log   func()
		level slog.Level
		msg   string
	}{
		{"Trace", func() { l.Trace("t 1.2.3.4") }, slog.Level(-8), "t [addr]"},
		{"Tracef", func() { l.Tracef("t %s", client4) }, slog.Level(-8), "t [addr]"},
		{"Debug", func() { l.Debug("d [::1]:5") }, slog.LevelDebug, "d [addr]"},
		{"Debugf", func() { l.Debugf("d %v %d", client6, 7) }, slog.LevelDebug, "d [addr] 7"},
		{"Info", func() { l.Info("i fe80::1%eth0") }, slog.LevelInfo, "i [addr]"},
		{"Infof", func() { l.Infof("i %s", peerIP) }, slog.LevelInfo, "i [addr]"},
		{"Warn", func() { l.Warn("w ::ffff:1.2.3.4") }, slog.LevelWarn, "w [addr]"},
		{"Warnf", func() { l.Warnf("w %s", zoned) }, slog.LevelWarn, "w [addr]"},
		{"Error", func() { l.Error("e 10.0.0.1:1") }, slog.LevelError, "e [addr]"},
		{"Errorf", func() { l.Errorf("e %x", net.Addr(client4)) }, slog.LevelError, "e [addr]"},
		{"percent-in-plain-message", func() { l.Info("100% 1.2.3.4 %s") }, slog.LevelInfo, "100% [addr] %s"},
	}
	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			c.log()
			recs := rec.records()
			if len(recs) != i+1 {
				t.Fatalf("%d records, want %d", len(recs), i+1)
			}
			r := recs[i]
			if r.Level != c.level || r.Message != c.msg {
				t.Errorf("got level %v message %q, want %v %q", r.Level, r.Message, c.level, c.msg)
			}
			var scope string
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "scope" {
					scope = a.Value.String()
				}
				return true
			})
			if scope != "turn" {
				t.Errorf("scope = %q, want %q", scope, "turn")
			}
			// The source is the call site, in this file, not the adapter.
			f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
			if !strings.HasSuffix(f.File, "logger_test.go") || !strings.Contains(f.Function, "TestLoggerLevels") {
				t.Errorf("source %s:%d (%s), want the caller in logger_test.go", f.File, f.Line, f.Function)
			}
		})
	}
}

// counted is a Stringer that counts how often it is formatted.
type counted struct{ n *int }

func (c counted) String() string { *c.n++; return "1.2.3.4" }

func TestLoggerSkipsDisabledLevels(t *testing.T) {
	rec := newRecorder(slog.LevelInfo)
	l := newLogFactory(slog.New(rec)).NewLogger("turn")
	n := 0
	l.Tracef("%s", counted{&n})
	l.Debugf("%s", counted{&n})
	l.Trace("x")
	l.Debug("x")
	if n != 0 || len(rec.records()) != 0 {
		t.Fatalf("disabled levels formatted %d times and logged %d records", n, len(rec.records()))
	}
	l.Infof("%s", counted{&n})
	if n != 1 || len(rec.records()) != 1 {
		t.Fatalf("enabled level formatted %d times and logged %d records", n, len(rec.records()))
	}
	// A disabled call costs one Enabled call and no allocation.
	args := []any{counted{&n}}
	if a := testing.AllocsPerRun(100, func() { l.Debugf("%s", args...) }); a != 0 {
		t.Errorf("disabled Debugf allocates %v times", a)
	}
}

func TestLoggerNil(t *testing.T) {
	newLogFactory(nil).NewLogger("turn").Errorf("no panic %s", client4)
}

// TestLoggerEndToEnd logs every pion shape through a JSON handler and
// checks that the output holds no address anywhere.
func TestLoggerEndToEnd(t *testing.T) {
	var buf bytes.Buffer
	l := newLogFactory(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.Level(-8)}))).NewLogger("turn")
	for _, tc := range pionShapes() {
		l.Tracef("%s", tc.in)
		l.Errorf("%s", tc.in)
	}
	dec := json.NewDecoder(&buf)
	lines := 0
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		lines++
		if m["scope"] != "turn" {
			t.Errorf("scope %v", m["scope"])
		}
		if a, ok := findAddr(m["msg"].(string)); ok {
			t.Errorf("logged address %q in %q", a, m["msg"])
		}
	}
	if lines != 2*len(pionShapes()) {
		t.Errorf("%d lines, want %d", lines, 2*len(pionShapes()))
	}
}

// findAddr returns a substring of s that netip.ParseAddr or
// netip.ParseAddrPort accepts. Every such substring contains one of at
// most 45 bytes without a zone that ParseAddr accepts (a zone needs a
// valid address before it, a port too), so looking at those is enough;
// short inputs are searched exhaustively as well.
func findAddr(s string) (string, bool) {
	for i := range len(s) {
		for j := i + 1; j <= len(s) && (j-i <= maxAddrLen || len(s) <= 64); j++ {
			if _, err := netip.ParseAddr(s[i:j]); err == nil {
				return s[i:j], true
			}
			if _, err := netip.ParseAddrPort(s[i:j]); err == nil {
				return s[i:j], true
			}
		}
	}
	return "", false
}

// FuzzRedact checks the guarantee of redactAddrs: no substring of the
// output is accepted by netip.ParseAddr or netip.ParseAddrPort. It also
// checks that text is only changed where there was an address (or a long
// hex run, which may hide one), that valid UTF-8 stays valid, and that
// nothing panics. Inputs are cut at 256 bytes to keep the exhaustive
// check fast.
func FuzzRedact(f *testing.F) {
	for _, tc := range pionShapes() {
		f.Add(tc.in)
	}
	for _, s := range []string{"12:30:45", "x ::ffff:1.2.3.4,", "1.2.3.4.5", "[fe80::1%eth0]:9", "dead:beef::1", "::%:", "1::%25x]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 {
			s = s[:256]
		}
		out := redactAddrs(s)
		if a, ok := findAddr(out); ok {
			t.Fatalf("redactAddrs(%q) = %q keeps address %q", s, out, a)
		}
		if out != s {
			if _, ok := findAddr(s); !ok && !hasHexRun(s, 2*minHexAddr) {
				t.Fatalf("redactAddrs(%q) = %q changed text with no address in it", s, out)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("redactAddrs(%q) = %q is not valid UTF-8", s, out)
		}
	})
}

func hasHexRun(s string, n int) bool {
	run := 0
	for i := range len(s) {
		if isHex(s[i]) {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

var sinkString string

func BenchmarkRedact(b *testing.B) {
	for _, tc := range []struct{ name, in string }{
		{"no-address", "Received 120 bytes of udp, lifetime 600 seconds at 12:30:45 (v5.1.3)"},
		{"two-addresses", "Received 120 bytes of udp from 192.0.2.10:50000 on [2001:db8::7]:3478"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString = redactAddrs(tc.in)
			}
		})
	}
}

// BenchmarkPionLogger measures a pion debug call through the adapter,
// disabled and enabled. The args slice is built once: at pion's call site
// its construction (and an allocation for each non-constant argument) is
// pion's cost, paid whatever the level.
func BenchmarkPionLogger(b *testing.B) {
	args := []any{120, client4, wild6}
	for _, tc := range []struct {
		name  string
		level slog.Level
	}{{"debug-disabled", slog.LevelInfo}, {"debug-enabled", slog.LevelDebug}} {
		b.Run(tc.name, func(b *testing.B) {
			l := newLogFactory(slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: tc.level}))).NewLogger("turn")
			b.ReportAllocs()
			for b.Loop() {
				l.Debugf("Received %d bytes of udp from %s on %s", args...)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
