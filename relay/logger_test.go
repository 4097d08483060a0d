package relay

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestRedactAddrs(t *testing.T) {
	udp := &net.UDPAddr{IP: net.ParseIP("192.0.2.10"), Port: 5000}
	udp6 := &net.UDPAddr{IP: net.ParseIP("2001:db8::7"), Port: 3478, Zone: "eth0"}
	cases := []struct{ in, want string }{
		// Shapes pion's server and allocation code print.
		{fmt.Sprintf("permission denied for client %s to peer %s", udp, net.ParseIP("10.1.2.3")),
			"permission denied for client [addr] to peer [addr]"},
		{fmt.Sprintf("Received AllocateRequest from %s", udp6), "Received AllocateRequest from [addr]"},
		{fmt.Sprintf("Relay socket %s received %d bytes from %s", udp, 120, udp6),
			"Relay socket [addr] received 120 bytes from [addr]"},
		{fmt.Sprintf("Failed to reset allocation timer for %v", &struct {
			P    string
			S, D net.Addr
		}{"UDP", udp, udp6}), "Failed to reset allocation timer for &{UDP [addr] [addr]}"},
		{"Adding permission for [::ffff:127.0.0.1]:0", "Adding permission for [addr]"},
		{"peer ::ffff:169.254.169.254, again", "peer [addr], again"},
		{"Relay 127.0.0.1:40000: no permission for inbound peer fd00:ec2::254, closing", "Relay [addr]: no permission for inbound peer [addr], closing"},
		{"from [fe80::1%eth0]:9", "from [addr]"},
		{"to 1.2.3.4.", "to [addr]."},
		{"to 1.2.3.4:", "to [addr]:"},
		{"dead:beef::1 is IPv6", "[addr] is IPv6"},
		// Ordinary text stays.
		{"listening on port 3478 for 10 bytes", "listening on port 3478 for 10 bytes"},
		{"at 12:30:45 with v5.1.3 and 0.5 ms", "at 12:30:45 with v5.1.3 and 0.5 ms"},
		{"transaction 0a1b2c3d4e5f: done", "transaction 0a1b2c3d4e5f: done"},
		{"user 1767225600:demo_k1.n failed", "user 1767225600:demo_k1.n failed"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := redactAddrs(tc.in); got != tc.want {
			t.Errorf("redactAddrs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestLoggerLevelsAndRedaction(t *testing.T) {
	var buf bytes.Buffer
	l := newLogFactory(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).NewLogger("turn")
	l.Debugf("hidden %s", "127.0.0.1:1")
	l.Infof("client %s", "127.0.0.1:1")
	l.Errorf("peer %v", net.ParseIP("::1"))
	out := buf.String()
	if strings.Contains(out, "hidden") || strings.Contains(out, "127.0.0.1") || strings.Contains(out, "::1") {
		t.Fatalf("log output leaks or ignores the level:\n%s", out)
	}
	if !strings.Contains(out, "level=INFO") || !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "scope=pion/turn") {
		t.Fatalf("log output misses levels or scope:\n%s", out)
	}
}

// FuzzRedact: no address that stands as a whole token (between characters
// addresses are not written with) survives redaction, and nothing panics.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"client 127.0.0.1:5 peer [::1]:6", "12:30:45", "x ::ffff:1.2.3.4,", "1.2.3.4.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := redactAddrs(s)
		for _, tok := range strings.FieldsFunc(out, func(r rune) bool { return r > 0x7f || !isAddrByte(byte(r)) }) {
			core := strings.TrimRight(tok, ".:")
			if _, err := netip.ParseAddr(core); err == nil {
				t.Fatalf("redactAddrs(%q) = %q keeps address %q", s, out, core)
			}
			if _, err := netip.ParseAddrPort(core); err == nil {
				t.Fatalf("redactAddrs(%q) = %q keeps address %q", s, out, core)
			}
		}
	})
}
