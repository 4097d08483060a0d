package relay

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// PeerPolicy decides which peer IP addresses the relay may exchange data
// with. It refuses, by default, every address that is not a public unicast
// address: a TURN relay must not become a door into the network it sits in.
//
// The decision for an address is, in order: IPv4-mapped IPv6 addresses are
// unmapped and any zone is dropped; an invalid address is refused; an
// explicit deny entry refuses; an explicit allow entry permits; an address
// in the default deny list (defaultDenied) is refused; anything else is
// permitted.
//
// A PeerPolicy is immutable and safe for concurrent use. Allowed does not
// allocate.
type PeerPolicy struct {
	allow, deny []netip.Prefix
}

// defaultDenied is the default deny list, each range with the document
// that sets it aside. IPv4-mapped IPv6 (::ffff:0:0/96) is not listed: it is
// unmapped and checked as IPv4.
var defaultDenied = [...]netip.Prefix{
	// IPv4
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", RFC 791, RFC 1122
	netip.MustParsePrefix("10.0.0.0/8"),      // private, RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT), RFC 6598
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback, RFC 1122
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata 169.254.169.254, RFC 3927
	netip.MustParsePrefix("172.16.0.0/12"),   // private, RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments, RFC 6890
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation TEST-NET-1, RFC 5737
	netip.MustParsePrefix("192.31.196.0/24"), // AS112-v4, RFC 7535
	netip.MustParsePrefix("192.52.193.0/24"), // AMT, RFC 7450
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast, RFC 7526
	netip.MustParsePrefix("192.168.0.0/16"),  // private, RFC 1918
	netip.MustParsePrefix("192.175.48.0/24"), // direct delegation AS112, RFC 7534
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, RFC 2544
	netip.MustParsePrefix("198.51.100.0/24"), // documentation TEST-NET-2, RFC 5737
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation TEST-NET-3, RFC 5737
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast, RFC 5771
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved and limited broadcast 255.255.255.255, RFC 1112, RFC 919
	// IPv6
	netip.MustParsePrefix("::/128"),            // unspecified, RFC 4291
	netip.MustParsePrefix("::1/128"),           // loopback, RFC 4291
	netip.MustParsePrefix("::/96"),             // IPv4-compatible (deprecated), RFC 4291
	netip.MustParsePrefix("64:ff9b::/96"),      // NAT64 well-known prefix, RFC 6052
	netip.MustParsePrefix("64:ff9b:1::/48"),    // NAT64 local-use, RFC 8215
	netip.MustParsePrefix("100::/64"),          // discard-only, RFC 6666
	netip.MustParsePrefix("2001::/23"),         // IETF protocol assignments incl. Teredo 2001::/32, RFC 2928, RFC 4380
	netip.MustParsePrefix("2001:db8::/32"),     // documentation, RFC 3849
	netip.MustParsePrefix("2002::/16"),         // 6to4, RFC 3056
	netip.MustParsePrefix("2620:4f:8000::/48"), // direct delegation AS112, RFC 7534
	netip.MustParsePrefix("3fff::/20"),         // documentation, RFC 9637
	netip.MustParsePrefix("5f00::/16"),         // segment routing SIDs, RFC 9602
	netip.MustParsePrefix("fc00::/7"),          // unique local incl. fd00:ec2::254, RFC 4193
	netip.MustParsePrefix("fe80::/10"),         // link-local, RFC 4291
	netip.MustParsePrefix("fec0::/10"),         // site-local (deprecated), RFC 3879
	netip.MustParsePrefix("ff00::/8"),          // multicast, RFC 4291
}

// NewPeerPolicy returns the default-deny policy plus the embedder's
// explicit entries. Entries are CIDR prefixes ("10.1.0.0/16", "fd00::/8") or
// single addresses ("127.0.0.3", "::1"). A malformed entry, or a prefix with
// host bits set ("10.0.0.1/8"), is an error naming the entry: a bad entry
// refuses to start, it is never silently dropped.
func NewPeerPolicy(allow, deny []string) (*PeerPolicy, error) {
	a, err := parseEntries("allow", allow)
	if err != nil {
		return nil, err
	}
	d, err := parseEntries("deny", deny)
	if err != nil {
		return nil, err
	}
	return &PeerPolicy{allow: a, deny: d}, nil
}

func parseEntries(kind string, entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := parseEntry(e)
		if err != nil {
			return nil, fmt.Errorf("turnkit: peer %s entry %q: %w", kind, e, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseEntry parses one prefix or address, unmapping IPv4-mapped forms.
func parseEntry(e string) (netip.Prefix, error) {
	if !strings.Contains(e, "/") {
		ip, err := netip.ParseAddr(e)
		if err != nil {
			return netip.Prefix{}, err
		}
		if ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zones are not allowed")
		}
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(e)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("host bits are set (did you mean %s?)", p.Masked())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("an IPv4-mapped prefix needs at least 96 bits")
		}
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96), nil
	}
	return p, nil
}

// Allowed reports whether the relay may send to or receive from ip.
func (p *PeerPolicy) Allowed(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, d := range p.deny {
		if d.Contains(ip) {
			return false
		}
	}
	for _, a := range p.allow {
		if a.Contains(ip) {
			return true
		}
	}
	for i := range defaultDenied {
		if defaultDenied[i].Contains(ip) {
			return false
		}
	}
	return true
}

// AllowedIP is Allowed for a 4- or 16-byte net.IP as pion hands it; nil or
// any other length is refused.
func (p *PeerPolicy) AllowedIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	return p.Allowed(a)
}
