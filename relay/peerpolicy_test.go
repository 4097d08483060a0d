package relay_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/relay"
)

// deniedRanges is the default deny list as the issue states it, checked
// here independently of the table in peerpolicy.go.
var deniedRanges = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24",
	"192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
	"224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
	"2001:db8::/32", "2002::/16", "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7",
	"fe80::/10", "fec0::/10", "ff00::/8",
}

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

func TestPeerPolicyDefaultDeny(t *testing.T) {
	p, err := relay.NewPeerPolicy(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range deniedRanges {
		pfx := netip.MustParsePrefix(r)
		for _, edge := range []struct {
			name string
			addr netip.Addr
		}{{"first", pfx.Addr()}, {"last", lastAddr(pfx)}} {
			t.Run(r+"/"+edge.name, func(t *testing.T) {
				if p.Allowed(edge.addr) {
					t.Errorf("%s allowed", edge.addr)
				}
				if p.AllowedIP(net.IP(edge.addr.AsSlice())) {
					t.Errorf("AllowedIP(%s) allowed", edge.addr)
				}
				if edge.addr.Is4() {
					if m := mapped(edge.addr); p.Allowed(m) || p.AllowedIP(net.IP(m.AsSlice())) {
						t.Errorf("IPv4-mapped %s allowed", m)
					}
				}
			})
		}
	}
}

func TestPeerPolicyForms(t *testing.T) {
	p, err := relay.NewPeerPolicy(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	denied := []string{
		"::ffff:127.0.0.1", "0.0.0.0", "::", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
		"2002:7f00:1::", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1",
		"169.254.169.254", "fd00:ec2::254", "255.255.255.255", "224.0.0.1", "239.255.255.250",
		"ff02::1", "fe80::1", "fe80::1%eth0", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
	}
	for _, s := range denied {
		if p.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed, want denied", s)
		}
	}
	allowed := []string{
		"1.1.1.1", "8.8.8.8", "11.0.0.0", "9.255.255.255", "100.63.255.255", "100.128.0.0",
		"126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
		"172.32.0.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
		"223.255.255.255", "::ffff:8.8.8.8", "2606:4700::1111", "2001:4860:4860::8888",
	}
	for _, s := range allowed {
		if !p.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s denied, want allowed", s)
		}
	}
	if p.Allowed(netip.Addr{}) || p.AllowedIP(nil) || p.AllowedIP(net.IP{1, 2, 3}) {
		t.Error("invalid address allowed")
	}
}

func TestPeerPolicyEntries(t *testing.T) {
	p, err := relay.NewPeerPolicy([]string{"127.0.0.3/32", "10.20.0.0/16", "fd00:1::/32"}, []string{"10.20.30.0/24", "8.8.8.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"127.0.0.3": true, "::ffff:127.0.0.3": true, "127.0.0.2": false, "127.0.0.4": false,
		"10.20.1.1": true, "10.20.30.1": false, "10.21.0.1": false,
		"fd00:1::5": true, "fd00:2::5": false,
		"8.8.8.8": false, "8.8.4.4": true,
	}
	for s, want := range cases {
		if got := p.Allowed(netip.MustParseAddr(s)); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", s, got, want)
		}
	}
	mappedEntry, err := relay.NewPeerPolicy([]string{"::ffff:192.168.7.0/120", "::ffff:192.168.9.9"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !mappedEntry.Allowed(netip.MustParseAddr("192.168.7.200")) || !mappedEntry.Allowed(netip.MustParseAddr("192.168.9.9")) ||
		mappedEntry.Allowed(netip.MustParseAddr("192.168.8.1")) {
		t.Error("IPv4-mapped allow entries not applied as IPv4")
	}
	for _, bad := range []string{"", "abc", "10.0.0.1/8", "10.0.0.0/33", "1.2.3.4/-1", "fe80::1%eth0", "::ffff:0.0.0.0/80"} {
		_, err := relay.NewPeerPolicy([]string{bad}, nil)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("allow entry %q: error %v, want one naming the entry", bad, err)
		}
		if _, err := relay.NewPeerPolicy(nil, []string{bad}); err == nil {
			t.Errorf("deny entry %q accepted", bad)
		}
	}
}

func ExampleNewPeerPolicy() {
	p, err := relay.NewPeerPolicy([]string{"10.8.0.5"}, nil) // a private media server, deliberately
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"10.8.0.5", "10.8.0.6", "169.254.169.254", "::ffff:127.0.0.1", "203.0.114.9"} {
		fmt.Println(s, p.Allowed(netip.MustParseAddr(s)))
	}
	// Output:
	// 10.8.0.5 true
	// 10.8.0.6 false
	// 169.254.169.254 false
	// ::ffff:127.0.0.1 false
	// 203.0.114.9 true
}

// FuzzPeerPolicy: for any 16 bytes the decision equals the decision for the
// unmapped address, and nothing panics.
func FuzzPeerPolicy(f *testing.F) {
	for _, s := range []string{"::ffff:127.0.0.1", "::1", "2002:7f00:1::", "8.8.8.8", "fd00:ec2::254", "::ffff:8.8.8.8"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}
	p, err := relay.NewPeerPolicy([]string{"127.0.0.3"}, []string{"9.9.9.0/24"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 16 {
			if p.AllowedIP(net.IP(b)) && len(b) != 4 {
				t.Fatalf("AllowedIP accepted %d bytes", len(b))
			}
			return
		}
		a := netip.AddrFrom16([16]byte(b))
		if p.Allowed(a) != p.Allowed(a.Unmap()) || p.AllowedIP(net.IP(b)) != p.Allowed(a.Unmap()) {
			t.Fatalf("decision for %s differs from its unmapped form %s", a, a.Unmap())
		}
	})
}
