package relay_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/turnkit/turnkit/relay"
)

// specDenied is the default deny list as the specification states it,
// written here independently of the table in peerpolicy.go.
var specDenied = []struct{ name, prefix string }{
	{"this-network", "0.0.0.0/8"},
	{"private-10", "10.0.0.0/8"},
	{"cgnat", "100.64.0.0/10"},
	{"loopback-v4", "127.0.0.0/8"},
	{"link-local-v4", "169.254.0.0/16"},
	{"private-172", "172.16.0.0/12"},
	{"ietf-protocol-v4", "192.0.0.0/24"},
	{"test-net-1", "192.0.2.0/24"},
	{"as112-v4", "192.31.196.0/24"},
	{"amt", "192.52.193.0/24"},
	{"6to4-relay-anycast", "192.88.99.0/24"},
	{"private-192", "192.168.0.0/16"},
	{"as112-direct-v4", "192.175.48.0/24"},
	{"benchmarking", "198.18.0.0/15"},
	{"test-net-2", "198.51.100.0/24"},
	{"test-net-3", "203.0.113.0/24"},
	{"multicast-v4", "224.0.0.0/4"},
	{"reserved-and-broadcast", "240.0.0.0/4"},
	{"unspecified-v6", "::/128"},
	{"loopback-v6", "::1/128"},
	{"ipv4-compatible", "::/96"},
	{"ipv4-mapped", "::ffff:0:0/96"},
	{"nat64", "64:ff9b::/96"},
	{"nat64-local", "64:ff9b:1::/48"},
	{"discard", "100::/64"},
	{"ietf-protocol-v6", "2001::/23"},
	{"documentation-v6", "2001:db8::/32"},
	{"6to4", "2002::/16"},
	{"as112-direct-v6", "2620:4f:8000::/48"},
	{"documentation-3fff", "3fff::/20"},
	{"srv6-sid", "5f00::/16"},
	{"unique-local", "fc00::/7"},
	{"link-local-v6", "fe80::/10"},
	{"site-local", "fec0::/10"},
	{"multicast-v6", "ff00::/8"},
}

// specPrefixes is specDenied parsed, once.
var specPrefixes = sync.OnceValue(func() []netip.Prefix {
	out := make([]netip.Prefix, len(specDenied))
	for i, r := range specDenied {
		out[i] = netip.MustParsePrefix(r.prefix)
	}
	return out
})

// lastAddr returns the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func mapped(a netip.Addr) netip.Addr { return netip.AddrFrom16(a.As16()) }

// model is the specified decision, written plainly with netip.Prefix.
func model(allow, deny []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return false
	}
	for _, p := range deny {
		if p.Contains(ip) {
			return false
		}
	}
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range specPrefixes() {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

func newPolicy(t testing.TB, allow, deny []string) *relay.PeerPolicy {
	t.Helper()
	p, err := relay.NewPeerPolicy(allow, deny)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPeerPolicyDefaultTable checks that the table in the source is the
// specified list, line for line, and that every line cites its RFC.
func TestPeerPolicyDefaultTable(t *testing.T) {
	var got, want []string
	for _, row := range relay.DefaultDenyTableForTest() {
		got = append(got, row[0])
		if !strings.Contains(row[1], "RFC ") {
			t.Errorf("default deny line %s cites no RFC: %q", row[0], row[1])
		}
	}
	for _, r := range specDenied {
		want = append(want, r.prefix)
	}
	if !slices.Equal(got, want) {
		t.Errorf("default deny table\n got %q\nwant %q", got, want)
	}
}

// TestPeerPolicyDefaultDeny checks the first and the last address of every
// default-denied range, in every form pion may hand them over.
func TestPeerPolicyDefaultDeny(t *testing.T) {
	p := newPolicy(t, nil, nil)
	for _, r := range specDenied {
		pfx := netip.MustParsePrefix(r.prefix)
		for _, edge := range []struct {
			name string
			addr netip.Addr
		}{{"first", pfx.Addr()}, {"last", lastAddr(pfx)}} {
			t.Run(r.name+"/"+edge.name, func(t *testing.T) {
				a := edge.addr
				if p.Allowed(a) {
					t.Errorf("Allowed(%s) = true", a)
				}
				if p.AllowedIP(net.IP(a.AsSlice())) {
					t.Errorf("AllowedIP(%s, %d bytes) = true", a, a.BitLen()/8)
				}
				if a.Is4() {
					m := mapped(a)
					if p.Allowed(m) {
						t.Errorf("Allowed(%s) = true", m)
					}
					if p.AllowedIP(net.IP(m.AsSlice())) {
						t.Errorf("AllowedIP(%s, 16 bytes) = true", m)
					}
				}
			})
		}
	}
}

// TestPeerPolicyForms checks specific addresses: the embedded-IPv4 forms
// that lead to a denied IPv4 address, the metadata services, and public
// addresses just outside the denied ranges.
func TestPeerPolicyForms(t *testing.T) {
	p := newPolicy(t, nil, nil)
	cases := []struct {
		name, addr string
		want       bool
	}{
		{"nat64-loopback", "64:ff9b::7f00:1", false},
		{"nat64-embedded-v4-notation", "64:ff9b::127.0.0.1", false},
		{"nat64-of-public-v4", "64:ff9b::8.8.8.8", false}, // the whole prefix is refused
		{"nat64-local-use", "64:ff9b:1::a9fe:a9fe", false},
		{"6to4-loopback", "2002:7f00:1::", false},
		{"6to4-metadata", "2002:a9fe:a9fe::1", false},
		{"teredo-first", "2001:0::", false},
		{"teredo-server", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"teredo-last", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"ipv4-compatible-loopback", "::127.0.0.1", false},
		{"ipv4-compatible-public", "::8.8.8.8", false},
		{"mapped-loopback", "::ffff:127.0.0.1", false},
		{"mapped-hex-loopback", "::ffff:7f00:1", false},
		{"mapped-metadata", "::ffff:169.254.169.254", false},
		{"aws-metadata-v6", "fd00:ec2::254", false},
		{"metadata-v4", "169.254.169.254", false},
		{"broadcast", "255.255.255.255", false},
		{"unspecified-v6", "::", false},
		{"unspecified-v4", "0.0.0.0", false},
		{"loopback-v6", "::1", false},
		{"link-local-with-zone", "fe80::1%eth0", false},
		{"multicast-ssdp", "239.255.255.250", false},
		{"multicast-all-nodes", "ff02::1", false},
		{"documentation-v6", "2001:db8::1", false},

		{"public-after-10", "11.0.0.0", true},
		{"public-before-10", "9.255.255.255", true},
		{"public-before-cgnat", "100.63.255.255", true},
		{"public-after-cgnat", "100.128.0.0", true},
		{"public-before-loopback", "126.255.255.255", true},
		{"public-after-loopback", "128.0.0.0", true},
		{"public-before-link-local", "169.253.255.255", true},
		{"public-after-link-local", "169.255.0.0", true},
		{"public-before-172", "172.15.255.255", true},
		{"public-after-172", "172.32.0.0", true},
		{"public-before-benchmarking", "198.17.255.255", true},
		{"public-after-benchmarking", "198.20.0.0", true},
		{"public-before-multicast", "223.255.255.255", true},
		{"public-after-this-network", "1.0.0.0", true},
		{"public-mapped", "::ffff:8.8.8.8", true},
		{"public-v6-cloudflare", "2606:4700::1111", true},
		{"public-v6-google", "2001:4860:4860::8888", true},
		{"public-v6-after-2001-23", "2001:200::", true},
		{"public-v6-zone-dropped", "2606:4700::1111%eth0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			if got := p.Allowed(a); got != tc.want {
				t.Errorf("Allowed(%s) = %v, want %v", a, got, tc.want)
			}
		})
	}
}

// TestPeerPolicyRangeEdges checks the address just outside each edge of
// every denied range: allowed when it is in no other denied range.
func TestPeerPolicyRangeEdges(t *testing.T) {
	p := newPolicy(t, nil, nil)
	for _, r := range specDenied {
		pfx := netip.MustParsePrefix(r.prefix)
		for _, out := range []netip.Addr{pfx.Addr().Prev(), lastAddr(pfx).Next()} {
			if !out.IsValid() {
				continue // 0.0.0.0/8 has nothing before it, 240.0.0.0/4 nothing after
			}
			want := model(nil, nil, out)
			if got := p.Allowed(out); got != want {
				t.Errorf("%s: Allowed(%s) = %v, want %v", r.name, out, got, want)
			}
		}
	}
}

// TestPeerPolicyMatchesModel compares Allowed with the plainly written
// specification over random addresses, addresses inside and around every
// range, and a policy with explicit entries.
func TestPeerPolicyMatchesModel(t *testing.T) {
	allowS := []string{"127.0.0.3/32", "10.20.0.0/16", "fd00:1::/32", "::ffff:192.168.7.0/120"}
	denyS := []string{"10.20.30.0/24", "8.8.8.0/24", "2606:4700::/32"}
	var allow, deny []netip.Prefix
	for _, s := range allowS {
		allow = append(allow, unmapPrefix(netip.MustParsePrefix(s)))
	}
	for _, s := range denyS {
		deny = append(deny, unmapPrefix(netip.MustParsePrefix(s)))
	}
	p := newPolicy(t, allowS, denyS)
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(a netip.Addr) {
		t.Helper()
		if got, want := p.Allowed(a), model(allow, deny, a); got != want {
			t.Fatalf("Allowed(%s) = %v, model says %v", a, got, want)
		}
	}
	var ranges []netip.Prefix
	ranges = append(ranges, specPrefixes()...)
	ranges = append(ranges, allow...)
	ranges = append(ranges, deny...)
	for _, pfx := range ranges {
		for _, a := range []netip.Addr{pfx.Addr(), pfx.Addr().Prev(), lastAddr(pfx), lastAddr(pfx).Next()} {
			if a.IsValid() {
				check(a)
				if a.Is4() {
					check(mapped(a))
				}
			}
		}
		for range 64 { // random addresses inside the range
			b := pfx.Addr().AsSlice()
			for i := pfx.Bits(); i < len(b)*8; i++ {
				if rng.IntN(2) == 1 {
					b[i/8] |= 0x80 >> (i % 8)
				}
			}
			a, _ := netip.AddrFromSlice(b)
			check(a)
		}
	}
	for range 100_000 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		check(netip.AddrFrom16(b))
		check(netip.AddrFrom4([4]byte(b[12:])))
	}
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

func TestPeerPolicyEntries(t *testing.T) {
	cases := []struct {
		name        string
		allow, deny []string
		want        map[string]bool
	}{
		{"allow-one-loopback-address", []string{"127.0.0.3/32"}, nil, map[string]bool{
			"127.0.0.3": true, "::ffff:127.0.0.3": true, "127.0.0.2": false, "127.0.0.4": false, "::1": false,
		}},
		{"allow-single-address-form", []string{"127.0.0.3"}, nil, map[string]bool{
			"127.0.0.3": true, "::ffff:127.0.0.3": true, "127.0.0.2": false, "127.0.0.4": false,
		}},
		{"allow-mapped-entry", []string{"::ffff:127.0.0.3"}, nil, map[string]bool{
			"127.0.0.3": true, "::ffff:127.0.0.3": true, "127.0.0.4": false,
		}},
		{"allow-mapped-prefix", []string{"::ffff:192.168.7.0/120"}, nil, map[string]bool{
			"192.168.7.0": true, "192.168.7.255": true, "::ffff:192.168.7.9": true, "192.168.8.1": false,
		}},
		{"allow-v6-private", []string{"fd00:1::/32", "::1"}, nil, map[string]bool{
			"fd00:1::5": true, "fd00:2::5": false, "::1": true, "::2": false,
		}},
		{"deny-beats-allow", []string{"10.0.0.0/8", "192.168.1.1"}, []string{"10.1.0.0/16", "192.168.1.1"}, map[string]bool{
			"10.2.0.1": true, "10.1.0.1": false, "::ffff:10.1.0.1": false, "192.168.1.1": false,
		}},
		{"deny-public-prefix", nil, []string{"8.8.8.0/24", "2606:4700::/32"}, map[string]bool{
			"8.8.8.8": false, "::ffff:8.8.8.8": false, "8.8.4.4": true, "2606:4700::1111": false, "2606:4701::1": true,
		}},
		{"families-are-separate", []string{"::/0"}, []string{"::/0"}, map[string]bool{
			// An IPv6 entry never matches an IPv4 address, mapped or not.
			"8.8.8.8": true, "::ffff:8.8.8.8": true, "10.0.0.1": false, "2606:4700::1111": false,
		}},
		{"allow-all-ipv4-by-mapped-prefix", []string{"::ffff:0:0/96"}, nil, map[string]bool{
			"127.0.0.1": true, "10.0.0.1": true, "::1": false,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicy(t, tc.allow, tc.deny)
			for s, want := range tc.want {
				if got := p.Allowed(netip.MustParseAddr(s)); got != want {
					t.Errorf("Allowed(%s) = %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestPeerPolicyBadEntries(t *testing.T) {
	cases := []struct{ name, entry string }{
		{"empty", ""},
		{"word", "abc"},
		{"host-bits-set", "10.0.0.1/8"},
		{"v4-length-too-long", "10.0.0.0/33"},
		{"negative-length", "1.2.3.4/-1"},
		{"v6-length-too-long", "fd00::/129"},
		{"zone", "fe80::1%eth0"},
		{"mapped-host-bits", "::ffff:10.0.0.1/104"},
		{"leading-space", " 10.0.0.0/8"},
		{"trailing-space", "10.0.0.0/8 "},
		{"no-length", "10.0.0.0/"},
		{"leading-zero", "010.0.0.0/8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, kind := range []string{"allow", "deny"} {
				var err error
				if kind == "allow" {
					_, err = relay.NewPeerPolicy([]string{"10.0.0.0/8", tc.entry}, nil)
				} else {
					_, err = relay.NewPeerPolicy(nil, []string{"10.0.0.0/8", tc.entry})
				}
				if err == nil {
					t.Fatalf("%s entry %q accepted", kind, tc.entry)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.entry)) || !strings.Contains(err.Error(), kind) {
					t.Errorf("%s entry %q: error %q does not name the entry", kind, tc.entry, err)
				}
				if !errors.Is(err, relay.ErrBadPeerEntry) {
					t.Errorf("%s entry %q: error %q does not wrap ErrBadPeerEntry", kind, tc.entry, err)
				}
			}
		})
	}
}

func TestPeerPolicyAllowedIP(t *testing.T) {
	p := newPolicy(t, nil, nil)
	for _, tc := range []struct {
		name string
		ip   net.IP
		want bool
	}{
		{"nil", nil, false},
		{"empty", net.IP{}, false},
		{"3-bytes", net.IP{8, 8, 8}, false},
		{"5-bytes", net.IP{8, 8, 8, 8, 8}, false},
		{"4-byte-public", net.IP{8, 8, 8, 8}, true},
		{"16-byte-public", net.IPv4(8, 8, 8, 8), true},
		{"4-byte-loopback", net.IP{127, 0, 0, 1}, false},
		{"16-byte-loopback", net.IPv4(127, 0, 0, 1), false},
		{"v6-loopback", net.IPv6loopback, false},
		{"v6-public", net.ParseIP("2606:4700::1111"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.AllowedIP(tc.ip); got != tc.want {
				t.Errorf("AllowedIP(%v) = %v, want %v", tc.ip, got, tc.want)
			}
			if len(tc.ip) == 16 {
				if v4 := tc.ip.To4(); v4 != nil && p.AllowedIP(v4) != p.AllowedIP(tc.ip) {
					t.Errorf("AllowedIP differs between the 4- and 16-byte forms of %v", tc.ip)
				}
			}
		})
	}
	if p.Allowed(netip.Addr{}) {
		t.Error("Allowed(zero Addr) = true")
	}
}

// TestPeerPolicyZeroAndNil: the zero value and a nil policy apply the
// defaults only.
func TestPeerPolicyZeroAndNil(t *testing.T) {
	var nilPolicy *relay.PeerPolicy
	for name, p := range map[string]*relay.PeerPolicy{"nil": nilPolicy, "zero": {}} {
		if !p.Allowed(netip.MustParseAddr("8.8.8.8")) || p.Allowed(netip.MustParseAddr("127.0.0.1")) ||
			!p.Allowed(netip.MustParseAddr("2606:4700::1111")) || p.Allowed(netip.MustParseAddr("::1")) ||
			p.AllowedIP(net.IPv4(10, 0, 0, 1)) {
			t.Errorf("%s policy does not apply the defaults", name)
		}
	}
}

// TestPeerPolicyNoAllocs enforces what BenchmarkPeerPolicy reports.
func TestPeerPolicyNoAllocs(t *testing.T) {
	p := newPolicy(t, []string{"127.0.0.3"}, []string{"8.8.8.0/24"})
	v4, v6, m := netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("2606:4700::1111%eth0"), netip.MustParseAddr("::ffff:1.1.1.1")
	ip := net.IPv4(1, 1, 1, 1)
	if n := testing.AllocsPerRun(100, func() { _ = p.Allowed(v4) && p.Allowed(v6) && p.Allowed(m) && p.AllowedIP(ip) }); n != 0 {
		t.Errorf("Allowed allocates: %v allocations per run", n)
	}
}

// TestPeerPolicyConcurrent runs Allowed from many goroutines, for the race
// detector.
func TestPeerPolicyConcurrent(t *testing.T) {
	p := newPolicy(t, []string{"127.0.0.3"}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				a := netip.AddrFrom4([4]byte{127, 0, byte(i), byte(j)})
				if p.Allowed(a) != (a == netip.MustParseAddr("127.0.0.3")) {
					t.Errorf("Allowed(%s) wrong", a)
					return
				}
			}
		})
	}
	wg.Wait()
}

func ExampleNewPeerPolicy() {
	// A private media server the relay must reach, deliberately, and one
	// public network it must not.
	p, err := relay.NewPeerPolicy([]string{"10.8.0.5"}, []string{"198.51.99.0/24"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"10.8.0.5", "10.8.0.6", "::ffff:10.8.0.5", "169.254.169.254", "64:ff9b::7f00:1", "198.51.99.7", "8.8.8.8"} {
		fmt.Println(s, p.Allowed(netip.MustParseAddr(s)))
	}
	_, err = relay.NewPeerPolicy([]string{"10.0.0.1/8"}, nil)
	fmt.Println(err)
	// Output:
	// 10.8.0.5 true
	// 10.8.0.6 false
	// ::ffff:10.8.0.5 true
	// 169.254.169.254 false
	// 64:ff9b::7f00:1 false
	// 198.51.99.7 false
	// 8.8.8.8 true
	// turnkit: bad peer policy entry: allow entry "10.0.0.1/8": host bits are set (the prefix is 10.0.0.0/8)
}

// FuzzPeerPolicy: for any 16 bytes, the decision equals the decision for
// the unmapped address (and for a mapped address, the decision for its 4
// bytes), a zone changes nothing, AllowedIP agrees with Allowed, the
// decision is the specified one, and nothing panics. Inputs shorter than
// 16 bytes are zero-padded and longer ones cut; AllowedIP also gets the raw
// bytes, and refuses every length but 4 and 16.
func FuzzPeerPolicy(f *testing.F) {
	for _, s := range []string{
		"::ffff:127.0.0.1", "::1", "::", "2002:7f00:1::", "64:ff9b::7f00:1", "8.8.8.8", "fd00:ec2::254",
		"::ffff:8.8.8.8", "::127.0.0.1", "2001::1", "::ffff:127.0.0.3", "2606:4700::1111",
	} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}
	allowS, denyS := []string{"127.0.0.3", "fd00:1::/32"}, []string{"9.9.9.0/24"}
	p := newPolicy(f, allowS, denyS)
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32"), netip.MustParsePrefix("fd00:1::/32")}
	deny := []netip.Prefix{netip.MustParsePrefix("9.9.9.0/24")}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got := p.AllowedIP(net.IP(b)); got && len(b) != 4 && len(b) != 16 {
			t.Fatalf("AllowedIP accepted %d bytes", len(b))
		}
		var raw [16]byte
		copy(raw[:], b)
		a := netip.AddrFrom16(raw)
		got := p.Allowed(a)
		if u := p.Allowed(a.Unmap()); got != u {
			t.Fatalf("Allowed(%s) = %v, Allowed(%s) = %v", a, got, a.Unmap(), u)
		}
		if a.Is4In6() {
			if v4 := p.Allowed(netip.AddrFrom4([4]byte(raw[12:]))); got != v4 {
				t.Fatalf("Allowed(%s) = %v, its 4-byte form %v", a, got, v4)
			}
		}
		if z := p.Allowed(a.WithZone("eth0")); got != z {
			t.Fatalf("Allowed(%s) = %v, with a zone %v", a, got, z)
		}
		if ip := p.AllowedIP(net.IP(raw[:])); got != ip {
			t.Fatalf("Allowed(%s) = %v, AllowedIP %v", a, got, ip)
		}
		if want := model(allow, deny, a); got != want {
			t.Fatalf("Allowed(%s) = %v, specified %v", a, got, want)
		}
	})
}
