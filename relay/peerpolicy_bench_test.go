package relay

import (
	"net"
	"net/netip"
	"testing"
)

// DefaultDenyTableForTest returns the default deny list as written in
// defaultDenyTable (prefix, note), for the external tests to check against
// their own copy of the specification.
func DefaultDenyTableForTest() [][2]string {
	out := make([][2]string, 0, len(defaultDenyTable))
	for _, r := range defaultDenyTable {
		out = append(out, [2]string{r.prefix, r.what})
	}
	return out
}

var sinkBool bool

// BenchmarkPeerPolicy measures Allowed on the per-packet path, against a
// straightforward loop of netip.Prefix.Contains over the same entries
// ("contains" sub-benchmarks) that the masked-integer tables replace.
func BenchmarkPeerPolicy(b *testing.B) {
	p, err := NewPeerPolicy([]string{"127.0.0.3", "fd00:1::/32"}, []string{"9.9.9.0/24"})
	if err != nil {
		b.Fatal(err)
	}
	// The same decision as a first-match list of netip.Prefix: deny entries,
	// allow entries, then the defaults (the worst order for an allowed
	// address, as for Allowed).
	type rule struct {
		prefix netip.Prefix
		allow  bool
	}
	rules := []rule{
		{netip.MustParsePrefix("9.9.9.0/24"), false},
		{netip.MustParsePrefix("127.0.0.3/32"), true},
		{netip.MustParsePrefix("fd00:1::/32"), true},
	}
	for _, r := range defaultDenyTable {
		rules = append(rules, rule{netip.MustParsePrefix(r.prefix), false})
	}
	containsAllowed := func(ip netip.Addr) bool {
		ip = ip.Unmap().WithZone("")
		if !ip.IsValid() {
			return false
		}
		for _, r := range rules {
			if r.prefix.Contains(ip) {
				return r.allow
			}
		}
		return true
	}
	cases := []struct {
		name string
		addr netip.Addr
		want bool
	}{
		{"allowed-v4", netip.MustParseAddr("8.8.8.8"), true},
		{"denied-v4", netip.MustParseAddr("192.168.1.1"), false},
		{"allowed-v6", netip.MustParseAddr("2606:4700::1111"), true},
		{"mapped-v4", netip.MustParseAddr("::ffff:8.8.8.8"), true},
	}
	for _, tc := range cases {
		if p.Allowed(tc.addr) != tc.want || containsAllowed(tc.addr) != tc.want {
			b.Fatalf("%s: want %v", tc.addr, tc.want)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = p.Allowed(tc.addr)
			}
		})
		b.Run(tc.name+"/contains", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = containsAllowed(tc.addr)
			}
		})
	}
	ip := net.ParseIP("8.8.8.8") // 16 bytes, as pion hands a peer address
	b.Run("AllowedIP-16-byte-v4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBool = p.AllowedIP(ip)
		}
	})
}
