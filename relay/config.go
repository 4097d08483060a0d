package relay

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Config configures a relay Server. The zero value is usable once Secrets
// (or Authenticator) is set: it listens on UDP and TCP 127.0.0.1:3478 with
// the default peer policy.
type Config struct {
	// ID identifies this relay in sessions and in the fleet. Defaults to
	// "relay-" and a hash of the host name, RelayIP and the listeners'
	// bound addresses and ports, computed once they are bound: relays
	// running at the same time get different IDs (they cannot bind the same
	// ports, so two relays on port 0 differ too), and a relay restarted on
	// the same host, addresses and ports gets its ID back, so the sessions
	// a crashed run left open can be closed under it. Relays that share
	// their ports through SO_REUSEPORT must set distinct IDs.
	ID string

	// Region is the relay's region slug, reported to the issuer. Defaults
	// to "default".
	Region string

	// Realm is the TURN realm. Defaults to "turnkit".
	Realm string

	// UDPAddrs are the addresses of the UDP listeners ("host:port").
	// When no address and no socket (UDPAddrs, TCPAddrs, TLSAddrs,
	// PacketConns, Listeners, TLSListeners) is given, the relay listens on
	// UDP and TCP 127.0.0.1:3478.
	UDPAddrs []string
	// TCPAddrs are the addresses of the plain TCP listeners.
	TCPAddrs []string
	// TLSAddrs are the addresses of the TURN-over-TLS listeners. They need
	// TLSConfig with at least one certificate.
	TLSAddrs []string
	// TLSConfig is the server TLS configuration for TLSAddrs.
	TLSConfig *tls.Config

	// PacketConns are UDP sockets the caller opened (for example several
	// on one port with SO_REUSEPORT, or one from a socket-activated
	// service), served as the relay's own UDP listeners are: the same
	// guard, admission and metering, and ListenerBufferBytes applied to
	// each *net.UDPConn. They add to UDPAddrs. The relay owns them from
	// New on and closes them at Close; if New fails, it leaves them open.
	PacketConns []net.PacketConn
	// Listeners are plain TCP listeners the caller opened, served and
	// closed as PacketConns are. They add to TCPAddrs.
	Listeners []net.Listener
	// TLSListeners are listeners the caller opened that already speak TLS
	// (tls.NewListener, or a certificate manager's), for turns: URLs. They
	// need no TLSConfig, and are served and closed as PacketConns are.
	// They add to TLSAddrs.
	TLSListeners []net.Listener

	// RelayIP is the address the relay puts in XOR-RELAYED-ADDRESS: the
	// address peers send to. Its family is the one the relay allocates: an
	// Allocate that asks for the other one gets 440 (Address Family not
	// Supported). Defaults to the IP of the first listener (addresses
	// first, in the order UDP, TCP, TLS, then sockets in the same order),
	// which must then not be unspecified (0.0.0.0 or ::).
	RelayIP netip.Addr
	// RelayBindIP is the local address relayed sockets bind to: an address
	// of RelayIP's family, or an unspecified one (0.0.0.0 for IPv4, :: for
	// either). Defaults to RelayIP.
	RelayBindIP netip.Addr
	// PublicHost is the host name or address put in the stun:, turn: and
	// turns: URLs the issuer hands out. Defaults to RelayIP.
	PublicHost string

	// Secrets looks up relay secrets by key ID, for credentials in
	// turnkit's REST API form: the relay authenticates with
	// NewRESTAuthenticator(Secrets). StaticSecrets holds them in memory.
	// Exactly one of Secrets and Authenticator is required.
	Secrets Secrets
	// Authenticator, if set, authenticates every TURN request instead:
	// it turns a username into its password and identity (see
	// Authenticator). Exactly one of Secrets and Authenticator is
	// required; to accept other credentials besides turnkit's, chain
	// NewRESTAuthenticator in it.
	Authenticator Authenticator
	// Admitter, if set, is asked at every Allocate and at every Refresh
	// that extends an allocation whether the app behind the credential may
	// hold one now (see Admitter). Nil admits every valid credential.
	Admitter Admitter
	// Sink, if set, receives session events. Events are delivered in order
	// from one goroutine, never from the packet path.
	Sink Sink

	// AllowPeers are CIDR prefixes or addresses the relay may reach even
	// though the default peer policy refuses them (a private media server,
	// a loopback test peer). See NewPeerPolicy.
	AllowPeers []string
	// DenyPeers are prefixes or addresses refused in addition to the
	// defaults. A deny entry wins over an allow entry.
	DenyPeers []string

	// ClockSkew is how long after its expiry a username may still open an
	// allocation, to absorb clock differences between issuer and relay.
	// Defaults to 5 seconds. Negative means none.
	ClockSkew time.Duration

	// MaxAllocationsPerUser caps live allocations per username. Defaults
	// to 10. Over it, Allocate fails with 486. An Authenticator can set
	// another cap, or none, for one username (Identity.MaxAllocations).
	MaxAllocationsPerUser int
	// MaxAllocationsPerApp caps live allocations per app on this relay, so
	// that one app cannot take all of it: the last tenth stays for the
	// relay's other apps. Defaults to MaxAllocations less a tenth (9,000
	// of 10,000), so that a relay serving one app, the usual embedding,
	// gives it nearly all of its allocations.
	MaxAllocationsPerApp int
	// MaxAllocations caps live allocations on this relay. Defaults to
	// 10000.
	MaxAllocations int

	// MaxPermissionsPerAllocation caps the peer IPs one allocation may hold
	// permissions for; a CreatePermission past it gets 508. Defaults to 64.
	MaxPermissionsPerAllocation int
	// MaxChannelsPerAllocation caps one allocation's channel bindings; a
	// ChannelBind for a new channel past it gets 508. Defaults to 64.
	MaxChannelsPerAllocation int

	// AmplificationFactor bounds the bytes the relay sends a UDP source
	// without MESSAGE-INTEGRITY (401 challenges, Binding responses, other
	// errors before authentication) to this many times the bytes of the
	// STUN requests received from it, as QUIC bounds a server before it has
	// validated the client's address (RFC 9000 8.1). A request pays for its
	// own reply, so the first request from any source is answered at once:
	// the 401 to the smallest valid Allocate (28 bytes) is 68 bytes with the
	// default realm, 2.4 times its size; a Realm longer than 24 bytes makes
	// it more than 3 times. There is no per-source rate of replies, which a
	// NAT would exceed and a flood spoofed from a victim's address would
	// spend. Defaults to 3, QUIC's limit. Negative removes the bound.
	AmplificationFactor int
	// UnauthBytesPerSecond caps the bytes of unauthenticated UDP replies
	// the whole relay sends per second, with a burst of one second's
	// worth, so that a flood spoofed from many addresses reflects a bounded
	// total. Defaults to 1 MiB/s: about 15,000 challenges a second, ten
	// times the allocations a second a 2-core relay completes (honest
	// clients never meet the cap), and at most 8 Mbit/s of reflection,
	// less than the relay answers uncapped (1 to 1.7 MiB/s of 401s on 2
	// cores). Negative removes the cap.
	UnauthBytesPerSecond int
	// DisableAdmission turns AmplificationFactor and UnauthBytesPerSecond
	// off. It exists to measure what admission costs; leave it false.
	DisableAdmission bool

	// TCPIdleTimeout is how long a TCP or TLS connection may stay open
	// without holding an allocation: from accept (TLS handshake and first
	// STUN message included) until an Allocate on it succeeds (or, for an
	// RFC 6062 data connection, its ConnectionBind). A connection also
	// closes when its allocation ends. Defaults to 60 seconds, as coturn.
	// Negative means no deadline.
	TCPIdleTimeout time.Duration
	// MaxPendingTCPConnsPerSource caps the TCP and TLS connections from one
	// source IP that hold no allocation yet; past it, new ones are closed
	// at once. Connections that hold an allocation do not count, so a crowd
	// behind one NAT is limited by the allocation quotas alone. Defaults
	// to 64. Negative means no cap.
	MaxPendingTCPConnsPerSource int
	// MaxTCPConnsPerListener caps the open connections of each TCP or TLS
	// listener. At the cap, a new connection displaces the listener's
	// oldest one that holds no allocation, and is closed only when every
	// connection holds one. Defaults to MaxAllocations plus 1024. Negative
	// means no cap.
	MaxTCPConnsPerListener int

	// AllocationBitrate caps each allocation's relayed payload, in bits per
	// second, in each direction (to the peer and to the client); packets
	// over the cap are dropped, with a burst of a tenth of a second.
	// Defaults to 50 Mbit/s, far above a WebRTC call and far below bulk
	// transfer. Negative means no cap.
	AllocationBitrate int64

	// ListenerBufferBytes is the requested receive and send buffer size of
	// each UDP listener socket. Defaults to 2 MiB; the kernel may grant
	// less (see Server.SocketBuffers). Negative leaves the kernel default.
	ListenerBufferBytes int
	// RelayBufferBytes is the requested buffer size of each relayed UDP
	// socket. Defaults to 512 KiB. Negative leaves the kernel default.
	RelayBufferBytes int

	// UDPSocketsPerAddr is how many sockets the relay opens on each of
	// UDPAddrs. On Linux they share the port through SO_REUSEPORT, the
	// kernel spreads clients over them by a hash of their address, and
	// each socket has a read loop of its own, so that the listener is not
	// one goroutine's work on a machine with many cores. Defaults to
	// runtime.GOMAXPROCS(0) on Linux and 1 elsewhere, which is also what
	// any value becomes elsewhere. Negative means 1. Server.UDPAddrs
	// reports each address once. A port some other socket holds still
	// fails New, and a second relay cannot start on this one's port; a
	// process of the same user that sets SO_REUSEPORT itself can join the
	// port, and would receive part of its traffic.
	UDPSocketsPerAddr int
	// UDPReadBatch is how many datagrams a UDP listener socket reads in
	// one system call (recvmmsg, on Linux), handed to pion one by one.
	// Defaults to 16. 1 or negative reads one datagram per call; off
	// Linux, datagrams are read one per call.
	UDPReadBatch int
	// DisableFastPath hands every datagram to pion. By default the relay
	// relays ChannelData on the bound channels of UDP allocations itself,
	// both ways, without pion's per-datagram allocations and locks, under
	// the same peer rules, bitrate cap and metering, and hands pion
	// everything else (STUN, Send and Data indications, TCP and TLS
	// clients). It exists to measure what the fast path saves; leave it
	// false.
	DisableFastPath bool

	// UsageInterval is how often each live allocation's usage is reported
	// to the Sink as a delta; a last delta is reported when it closes.
	// Defaults to 10 seconds.
	UsageInterval time.Duration
	// DisableMetering turns byte counting off (no usage deltas). It exists
	// to measure what metering costs; leave it false.
	DisableMetering bool

	// AllocationLifetime is the default allocation lifetime. Defaults to
	// 10 minutes (pion's default).
	AllocationLifetime time.Duration

	// Logger receives the relay's logs. Client and peer addresses are
	// redacted from every message. Defaults to discarding logs.
	Logger *slog.Logger

	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

const (
	defaultListen         = "127.0.0.1:3478"
	defaultRealm          = "turnkit"
	defaultRegion         = "default"
	defaultClockSkew      = 5 * time.Second
	defaultPerUser        = 10
	defaultMaxAllocations = 10000
	defaultListenerBuffer = 2 << 20
	defaultRelayBuffer    = 512 << 10
	defaultUsageInterval  = 10 * time.Second
	defaultBitrate        = 50_000_000
	defaultPerAllocation  = 64

	defaultAmplification        = 3       // QUIC's anti-amplification limit
	defaultUnauthBytesPerSecond = 1 << 20 // see UnauthBytesPerSecond
	defaultTCPIdleTimeout       = 60 * time.Second
	defaultPendingPerSource     = 64
)

// withDefaults validates c and returns a copy with zero fields defaulted.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Secrets == nil && c.Authenticator == nil:
		return c, fmt.Errorf("relay: config: Secrets or Authenticator is required")
	case c.Secrets != nil && c.Authenticator != nil:
		return c, fmt.Errorf("relay: config: set Secrets or Authenticator, not both (chain NewRESTAuthenticator(Secrets) in the Authenticator)")
	}
	if ss, ok := c.Secrets.(StaticSecrets); ok {
		if err := ss.validate(); err != nil {
			return c, err
		}
	}
	if err := c.checkSockets(); err != nil {
		return c, err
	}
	if c.Region == "" {
		c.Region = defaultRegion
	}
	if c.Realm == "" {
		c.Realm = defaultRealm
	}
	if len(c.UDPAddrs) == 0 && len(c.TCPAddrs) == 0 && len(c.TLSAddrs) == 0 &&
		len(c.PacketConns) == 0 && len(c.Listeners) == 0 && len(c.TLSListeners) == 0 {
		c.UDPAddrs = []string{defaultListen}
		c.TCPAddrs = []string{defaultListen}
	}
	if len(c.TLSAddrs) > 0 && (c.TLSConfig == nil || (len(c.TLSConfig.Certificates) == 0 && c.TLSConfig.GetCertificate == nil)) {
		return c, fmt.Errorf("relay: config: TLSAddrs %v need TLSConfig with a certificate", c.TLSAddrs)
	}
	if !c.RelayIP.IsValid() {
		ip, err := firstListenerIP(c)
		if err != nil {
			return c, err
		}
		c.RelayIP = ip
	}
	c.RelayIP = c.RelayIP.Unmap()
	if c.RelayIP.IsUnspecified() {
		return c, fmt.Errorf("relay: config: RelayIP %s is unspecified: set the address peers reach the relay at", c.RelayIP)
	}
	if !c.RelayBindIP.IsValid() {
		c.RelayBindIP = c.RelayIP
	}
	c.RelayBindIP = c.RelayBindIP.Unmap()
	if c.RelayBindIP.Is4() != c.RelayIP.Is4() && !(c.RelayIP.Is4() && c.RelayBindIP == netip.IPv6Unspecified()) {
		return c, fmt.Errorf("relay: config: RelayBindIP %s cannot bind sockets for RelayIP %s: use an address of its family or an unspecified one", c.RelayBindIP, c.RelayIP)
	}
	if c.PublicHost == "" {
		c.PublicHost = c.RelayIP.String()
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = defaultClockSkew
	} else if c.ClockSkew < 0 {
		c.ClockSkew = 0
	}
	if c.MaxAllocationsPerUser <= 0 {
		c.MaxAllocationsPerUser = defaultPerUser
	}
	if c.MaxAllocations <= 0 {
		c.MaxAllocations = defaultMaxAllocations
	}
	if c.MaxAllocationsPerApp <= 0 {
		c.MaxAllocationsPerApp = max(1, c.MaxAllocations-c.MaxAllocations/10)
	}
	if c.ListenerBufferBytes == 0 {
		c.ListenerBufferBytes = defaultListenerBuffer
	}
	if c.RelayBufferBytes == 0 {
		c.RelayBufferBytes = defaultRelayBuffer
	}
	if c.UDPSocketsPerAddr == 0 {
		c.UDPSocketsPerAddr = defaultSocketsPerAddr()
	}
	c.UDPSocketsPerAddr = max(c.UDPSocketsPerAddr, 1)
	if c.UDPReadBatch == 0 {
		c.UDPReadBatch = defaultReadBatch
	}
	c.UDPReadBatch = max(c.UDPReadBatch, 1)
	if c.MaxPermissionsPerAllocation <= 0 {
		c.MaxPermissionsPerAllocation = defaultPerAllocation
	}
	if c.MaxChannelsPerAllocation <= 0 {
		c.MaxChannelsPerAllocation = defaultPerAllocation
	}
	if c.AmplificationFactor == 0 {
		c.AmplificationFactor = defaultAmplification
	}
	if c.UnauthBytesPerSecond == 0 {
		c.UnauthBytesPerSecond = defaultUnauthBytesPerSecond
	}
	if c.TCPIdleTimeout == 0 {
		c.TCPIdleTimeout = defaultTCPIdleTimeout
	}
	if c.MaxPendingTCPConnsPerSource == 0 {
		c.MaxPendingTCPConnsPerSource = defaultPendingPerSource
	}
	if c.MaxTCPConnsPerListener == 0 {
		c.MaxTCPConnsPerListener = c.MaxAllocations + 1024
	}
	if c.AllocationBitrate == 0 {
		c.AllocationBitrate = defaultBitrate
	}
	if c.UsageInterval <= 0 {
		c.UsageInterval = defaultUsageInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// checkSockets refuses nil sockets and sockets without an IP address.
func (c Config) checkSockets() error {
	for i, pc := range c.PacketConns {
		if pc == nil {
			return fmt.Errorf("relay: config: PacketConns[%d] is nil", i)
		}
		if _, ok := addrPortOf(pc.LocalAddr()); !ok {
			return fmt.Errorf("relay: config: PacketConns[%d] has no IP address: %s", i, pc.LocalAddr())
		}
	}
	for name, list := range map[string][]net.Listener{"Listeners": c.Listeners, "TLSListeners": c.TLSListeners} {
		for i, ln := range list {
			if ln == nil {
				return fmt.Errorf("relay: config: %s[%d] is nil", name, i)
			}
			if _, ok := addrPortOf(ln.Addr()); !ok {
				return fmt.Errorf("relay: config: %s[%d] has no IP address: %s", name, i, ln.Addr())
			}
		}
	}
	return nil
}

// firstListenerIP returns the IP of the first configured listener: the
// first address, else the first socket.
func firstListenerIP(c Config) (netip.Addr, error) {
	var sockets []net.Addr
	for _, pc := range c.PacketConns {
		sockets = append(sockets, pc.LocalAddr())
	}
	for _, ln := range append(append([]net.Listener(nil), c.Listeners...), c.TLSListeners...) {
		sockets = append(sockets, ln.Addr())
	}
	if len(c.UDPAddrs) == 0 && len(c.TCPAddrs) == 0 && len(c.TLSAddrs) == 0 && len(sockets) > 0 {
		ap, _ := addrPortOf(sockets[0]) // checkSockets made sure it has an IP
		return ap.Addr(), nil
	}
	for _, list := range [][]string{c.UDPAddrs, c.TCPAddrs, c.TLSAddrs} {
		for _, a := range list {
			host, _, err := net.SplitHostPort(a)
			if err != nil {
				return netip.Addr{}, fmt.Errorf("relay: config: listener address %q: %w", a, err)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return netip.Addr{}, fmt.Errorf("relay: config: listener address %q: set RelayIP when listening on a host name: %w", a, err)
			}
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("relay: config: no listener")
}
