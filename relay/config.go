package relay

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Config configures a relay Server. The zero value is usable once Secrets is
// set: it listens on UDP and TCP 127.0.0.1:3478 with the default peer policy.
type Config struct {
	// ID identifies this relay in sessions and in the fleet. Defaults to a
	// random ID chosen at New.
	ID string

	// Region is the relay's region slug, reported to the issuer. Defaults
	// to "default".
	Region string

	// Realm is the TURN realm. Defaults to "turnkit".
	Realm string

	// UDPAddrs are the addresses of the UDP listeners ("host:port").
	// When UDPAddrs, TCPAddrs and TLSAddrs are all empty, the relay listens
	// on UDP and TCP 127.0.0.1:3478.
	UDPAddrs []string
	// TCPAddrs are the addresses of the plain TCP listeners.
	TCPAddrs []string
	// TLSAddrs are the addresses of the TURN-over-TLS listeners. They need
	// TLSConfig with at least one certificate.
	TLSAddrs []string
	// TLSConfig is the server TLS configuration for TLSAddrs.
	TLSConfig *tls.Config

	// RelayIP is the address the relay puts in XOR-RELAYED-ADDRESS: the
	// address peers send to. Defaults to the IP of the first listener,
	// which must then not be unspecified (0.0.0.0 or ::).
	RelayIP netip.Addr
	// RelayBindIP is the local address relayed sockets bind to. Defaults to
	// RelayIP.
	RelayBindIP netip.Addr
	// PublicHost is the host name or address put in the stun:, turn: and
	// turns: URLs the issuer hands out. Defaults to RelayIP.
	PublicHost string

	// Secrets looks up relay secrets by key ID. Required.
	Secrets Secrets
	// Admitter, if set, is asked at every Allocate whether the app behind
	// the credential may allocate. Nil admits every valid credential.
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
	// to 10. Over it, Allocate fails with 486.
	MaxAllocationsPerUser int
	// MaxAllocationsPerApp caps live allocations per app on this relay.
	// Defaults to 1000.
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

	// UnauthReplyRatio bounds what the relay sends a source without
	// MESSAGE-INTEGRITY (401 challenges, Binding responses) to this many
	// times the STUN bytes received from it, so spoofed floods are not
	// amplified. Defaults to 1: never more bytes out than in. A client's
	// first unauthenticated request is then answered when its
	// retransmission has paid for the reply (one or two RTOs). Negative
	// turns the budget off.
	UnauthReplyRatio float64
	// UnauthReplyRate caps unauthenticated replies per source, per second.
	// Defaults to 10.
	UnauthReplyRate float64

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
	defaultPerApp         = 1000
	defaultMaxAllocations = 10000
	defaultListenerBuffer = 2 << 20
	defaultRelayBuffer    = 512 << 10
	defaultUsageInterval  = 10 * time.Second
	defaultBitrate        = 50_000_000
	defaultPerAllocation  = 64
)

// withDefaults validates c and returns a copy with zero fields defaulted.
func (c Config) withDefaults() (Config, error) {
	if c.Secrets == nil {
		return c, fmt.Errorf("relay: config: Secrets is required")
	}
	if c.ID == "" {
		c.ID = "relay-" + randomID(10)
	}
	if c.Region == "" {
		c.Region = defaultRegion
	}
	if c.Realm == "" {
		c.Realm = defaultRealm
	}
	if len(c.UDPAddrs) == 0 && len(c.TCPAddrs) == 0 && len(c.TLSAddrs) == 0 {
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
	if c.MaxAllocationsPerApp <= 0 {
		c.MaxAllocationsPerApp = defaultPerApp
	}
	if c.MaxAllocations <= 0 {
		c.MaxAllocations = defaultMaxAllocations
	}
	if c.ListenerBufferBytes == 0 {
		c.ListenerBufferBytes = defaultListenerBuffer
	}
	if c.RelayBufferBytes == 0 {
		c.RelayBufferBytes = defaultRelayBuffer
	}
	if c.MaxPermissionsPerAllocation <= 0 {
		c.MaxPermissionsPerAllocation = defaultPerAllocation
	}
	if c.MaxChannelsPerAllocation <= 0 {
		c.MaxChannelsPerAllocation = defaultPerAllocation
	}
	if c.UnauthReplyRatio == 0 {
		c.UnauthReplyRatio = 1
	}
	if c.UnauthReplyRate <= 0 {
		c.UnauthReplyRate = 10
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

// firstListenerIP returns the IP of the first configured listener address.
func firstListenerIP(c Config) (netip.Addr, error) {
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
