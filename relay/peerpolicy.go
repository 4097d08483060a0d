package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrBadPeerEntry is wrapped by the error NewPeerPolicy returns for an
// allow or deny entry it cannot use.
var ErrBadPeerEntry = errors.New("turnkit: bad peer policy entry")

// PeerPolicy decides which peer IP addresses the relay may exchange data
// with. By default it refuses every address that is not public unicast —
// loopback, private, link-local (169.254.169.254 included), CGNAT,
// multicast, broadcast, documentation and reserved ranges, in IPv4 and IPv6
// and in their IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms — so that
// a TURN relay does not become a door into the network it sits in.
//
// The decision for an address is, in order:
//  1. an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is unmapped and decided
//     as the IPv4 address; any zone is dropped;
//  2. an invalid address is refused;
//  3. an address in an explicit deny entry is refused;
//  4. an address in an explicit allow entry is permitted;
//  5. an address in the default deny list (see defaultDenyTable) is refused;
//  6. anything else is permitted.
//
// IPv4 and IPv6 are separate families: an IPv6 entry never matches an IPv4
// address, even one that covers ::ffff:0:0/96 such as "::/0". Write an IPv4
// range as IPv4 ("10.0.0.0/8") or in its mapped form with at least 96 bits
// ("::ffff:10.0.0.0/104").
//
// A PeerPolicy is immutable and safe for concurrent use. Allowed and
// AllowedIP do not allocate, lock or look up maps: they compare the address
// against at most a few dozen masked integers. The zero value, and a nil
// *PeerPolicy, apply the default deny list with no explicit entries; most
// callers should use NewPeerPolicy.
type PeerPolicy struct {
	allow, deny prefixSet
}

// deniedRange is one line of the default deny list.
type deniedRange struct {
	prefix string // canonical CIDR prefix
	what   string // what the range is, and the document that sets it aside
}

// defaultDenyTable is the default deny list: the special-purpose ranges of
// the IANA IPv4 and IPv6 special-purpose address registries (RFC 6890)
// that are not globally reachable unicast, plus the private, shared,
// multicast and reserved blocks. It is the one place the list is written;
// defaultDeny is compiled from it.
var defaultDenyTable = [...]deniedRange{
	// IPv4
	{"0.0.0.0/8", `"this network", 0.0.0.0 included: RFC 791, RFC 1122 section 3.2.1.3`},
	{"10.0.0.0/8", "private use: RFC 1918"},
	{"100.64.0.0/10", "shared address space (carrier-grade NAT): RFC 6598"},
	{"127.0.0.0/8", "loopback: RFC 1122 section 3.2.1.3"},
	{"169.254.0.0/16", "link-local, cloud metadata 169.254.169.254 included: RFC 3927"},
	{"172.16.0.0/12", "private use: RFC 1918"},
	{"192.0.0.0/24", "IETF protocol assignments: RFC 6890 section 2.1"},
	{"192.0.2.0/24", "documentation (TEST-NET-1): RFC 5737"},
	{"192.31.196.0/24", "AS112-v4: RFC 7535"},
	{"192.52.193.0/24", "automatic multicast tunneling (AMT): RFC 7450"},
	{"192.88.99.0/24", "deprecated 6to4 relay anycast: RFC 7526"},
	{"192.168.0.0/16", "private use: RFC 1918"},
	{"192.175.48.0/24", "direct delegation AS112 service: RFC 7534"},
	{"198.18.0.0/15", "benchmarking: RFC 2544"},
	{"198.51.100.0/24", "documentation (TEST-NET-2): RFC 5737"},
	{"203.0.113.0/24", "documentation (TEST-NET-3): RFC 5737"},
	{"224.0.0.0/4", "multicast: RFC 5771"},
	{"240.0.0.0/4", "reserved, limited broadcast 255.255.255.255 included: RFC 1112 section 4, RFC 919 section 7"},
	// IPv6
	{"::/128", "unspecified address: RFC 4291 section 2.5.2"},
	{"::1/128", "loopback: RFC 4291 section 2.5.3"},
	{"::/96", "IPv4-compatible addresses (deprecated): RFC 4291 section 2.5.5.1"},
	{"::ffff:0:0/96", "IPv4-mapped addresses, unmapped and decided as IPv4 before this table is read: RFC 4291 section 2.5.5.2"},
	{"64:ff9b::/96", "NAT64 well-known prefix: RFC 6052"},
	{"64:ff9b:1::/48", "NAT64 local-use prefix: RFC 8215"},
	{"100::/64", "discard-only: RFC 6666"},
	{"2001::/23", "IETF protocol assignments, Teredo 2001::/32 included: RFC 2928, RFC 4380"},
	{"2001:db8::/32", "documentation: RFC 3849"},
	{"2002::/16", "6to4: RFC 3056"},
	{"2620:4f:8000::/48", "direct delegation AS112 service: RFC 7534"},
	{"3fff::/20", "documentation: RFC 9637"},
	{"5f00::/16", "segment routing (SRv6) SIDs: RFC 9602"},
	{"fc00::/7", "unique local, AWS metadata fd00:ec2::254 included: RFC 4193"},
	{"fe80::/10", "link-local unicast: RFC 4291 section 2.5.6"},
	{"fec0::/10", "site-local unicast (deprecated): RFC 3879"},
	{"ff00::/8", "multicast: RFC 4291 section 2.7"},
}

// defaultDeny is defaultDenyTable compiled for Allowed. It is set once,
// at package initialisation, and never written again.
var defaultDeny = mustCompileDefaultDeny()

func mustCompileDefaultDeny() prefixSet {
	var s prefixSet
	for _, r := range defaultDenyTable {
		p, err := netip.ParsePrefix(r.prefix)
		if err != nil || p != p.Masked() {
			panic("relay: bad default deny range " + r.prefix)
		}
		s.add(p)
	}
	return s
}

// NewPeerPolicy returns the default-deny policy plus the embedder's
// explicit entries. Entries are CIDR prefixes ("10.1.0.0/16", "fd00::/8")
// or single addresses ("127.0.0.3", "::1"). An IPv4-mapped entry
// ("::ffff:10.0.0.0/104", "::ffff:10.0.0.5") is the IPv4 range or address
// it maps. A deny entry wins over an allow entry.
//
// A malformed entry, a prefix with host bits set ("10.0.0.1/8"), or an
// address with a zone ("fe80::1%eth0") is an error that wraps
// ErrBadPeerEntry and names the entry: a bad entry refuses to start, it is
// never silently dropped.
func NewPeerPolicy(allow, deny []string) (*PeerPolicy, error) {
	p := &PeerPolicy{}
	for _, e := range allow {
		pfx, err := parsePeerEntry(e)
		if err != nil {
			return nil, fmt.Errorf("%w: allow entry %q: %w", ErrBadPeerEntry, e, err)
		}
		p.allow.add(pfx)
	}
	for _, e := range deny {
		pfx, err := parsePeerEntry(e)
		if err != nil {
			return nil, fmt.Errorf("%w: deny entry %q: %w", ErrBadPeerEntry, e, err)
		}
		p.deny.add(pfx)
	}
	return p, nil
}

// parsePeerEntry parses one prefix or address, unmapping IPv4-mapped
// forms to IPv4.
func parsePeerEntry(e string) (netip.Prefix, error) {
	if !strings.Contains(e, "/") {
		ip, err := netip.ParseAddr(e)
		if err != nil {
			return netip.Prefix{}, err
		}
		if ip.Zone() != "" {
			return netip.Prefix{}, errors.New("an entry cannot have a zone")
		}
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(e) // refuses zones, and lengths out of range
	if err != nil {
		return netip.Prefix{}, err
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("host bits are set (the prefix is %s)", m)
	}
	// A masked prefix of at least 96 bits inside ::ffff:0:0/96 is an IPv4
	// range written in its mapped form; a shorter one cannot be Is4In6, as
	// masking clears part of the ffff.
	if a := p.Addr(); a.Is4In6() {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96), nil
	}
	return p, nil
}

// Allowed reports whether the relay may send to or receive from ip.
func (p *PeerPolicy) Allowed(ip netip.Addr) bool {
	if ip.Is4In6() {
		ip = ip.Unmap() // also drops the zone
	}
	if ip.Is4() {
		a := ip.As4()
		v := binary.BigEndian.Uint32(a[:])
		if p != nil {
			if p.deny.contains4(v) {
				return false
			}
			if p.allow.contains4(v) {
				return true
			}
		}
		return !defaultDeny.contains4(v)
	}
	if !ip.Is6() { // the zero Addr
		return false
	}
	a := ip.As16() // without the zone
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	if p != nil {
		if p.deny.contains6(hi, lo) {
			return false
		}
		if p.allow.contains6(hi, lo) {
			return true
		}
	}
	return !defaultDeny.contains6(hi, lo)
}

// AllowedIP is Allowed for a net.IP as pion hands it: 4 bytes, or 16 bytes
// (an IPv4 address in its mapped form included). A nil IP, or one of any
// other length, is refused.
func (p *PeerPolicy) AllowedIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	return p.Allowed(a)
}

// prefixSet holds prefixes as masked integers, one slice per family, so
// that a lookup is a short loop of AND and compare.
type prefixSet struct {
	v4 []prefix4
	v6 []prefix6
}

type prefix4 struct{ addr, mask uint32 }

type prefix6 struct{ hi, lo, maskHi, maskLo uint64 }

// add appends the masked prefix p.
func (s *prefixSet) add(p netip.Prefix) {
	bits := p.Bits()
	if p.Addr().Is4() {
		a := p.Addr().As4()
		mask := ^uint32(0) << (32 - bits) // shifting by 32 gives 0: /0
		s.v4 = append(s.v4, prefix4{addr: binary.BigEndian.Uint32(a[:]) & mask, mask: mask})
		return
	}
	a := p.Addr().As16()
	var mhi, mlo uint64
	switch {
	case bits <= 64:
		mhi = ^uint64(0) << (64 - bits)
	default:
		mhi, mlo = ^uint64(0), ^uint64(0)<<(128-bits)
	}
	s.v6 = append(s.v6, prefix6{
		hi: binary.BigEndian.Uint64(a[:8]) & mhi, lo: binary.BigEndian.Uint64(a[8:]) & mlo,
		maskHi: mhi, maskLo: mlo,
	})
}

func (s *prefixSet) contains4(v uint32) bool {
	for _, r := range s.v4 {
		if v&r.mask == r.addr {
			return true
		}
	}
	return false
}

func (s *prefixSet) contains6(hi, lo uint64) bool {
	for _, r := range s.v6 {
		if hi&r.maskHi == r.hi && lo&r.maskLo == r.lo {
			return true
		}
	}
	return false
}
