package relay_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

func listenUDP(t *testing.T, addr string) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

func listenTCP(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func portString(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}

// TestCallerOwnedSockets: a relay given only a UDP socket and a TCP
// listener that the caller opened serves them as its own (allocation,
// relaying and metering on each), reports them in UDPAddrs, TCPAddrs and
// URLs (and no default listener), and closes them at Close.
func TestCallerOwnedSockets(t *testing.T) {
	pc := listenUDP(t, "127.0.0.1:0")
	ln := listenTCP(t, "127.0.0.1:0")
	log := &eventLog{}
	s, err := relay.New(relay.Config{
		PacketConns: []net.PacketConn{pc},
		Listeners:   []net.Listener{ln},
		Secrets:     relay.NewStaticSecrets("k1", testSecret),
		AllowPeers:  []string{"127.0.0.3"},
		Sink:        log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	want := []string{
		"stun:127.0.0.1:" + portString(pc.LocalAddr()),
		"turn:127.0.0.1:" + portString(pc.LocalAddr()) + "?transport=udp",
		"turn:127.0.0.1:" + portString(ln.Addr()) + "?transport=tcp",
	}
	if got := s.URLs(); !slices.Equal(got, want) {
		t.Fatalf("URLs = %v, want %v", got, want)
	}
	if u := s.UDPAddrs(); len(u) != 1 || u[0].String() != pc.LocalAddr().String() {
		t.Fatalf("UDPAddrs = %v", u)
	}
	if a := s.TCPAddrs(); len(a) != 1 || a[0].String() != ln.Addr().String() {
		t.Fatalf("TCPAddrs = %v", a)
	}
	if b := s.SocketBuffers(); len(b) != 1 || b[0].Addr != pc.LocalAddr().String() {
		t.Fatalf("SocketBuffers = %+v: the caller's UDP socket gets the listener buffers too", b)
	}

	peer := echoPeer(t)
	var relayed int64
	for _, network := range []string{"udp", "tcp"} {
		user, pass := mint("owned", time.Minute)
		rc, err := allocate(t, dialNetwork(t, s, network, user, pass))
		if err != nil {
			t.Fatalf("%s: allocate on the caller's socket: %v", network, err)
		}
		relayed += echoRounds(t, rc, peer, 10)
		_ = rc.Close()
	}
	waitFor(t, "both sessions to end", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return len(log.ended) == 2
	})
	if got := s.Stats().RelayedBytes; got != 2*relayed {
		t.Fatalf("RelayedBytes = %d, want %d", got, 2*relayed)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pc.ReadFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("caller's UDP socket after Close: read %v, want net.ErrClosed", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("caller's TCP listener after Close: accept %v, want net.ErrClosed", err)
	}
}

// TestCallerTLSListener: a listener that already speaks TLS is served as a
// turns: listener without Config.TLSConfig.
func TestCallerTLSListener(t *testing.T) {
	cert := selfSigned(t)
	inner := listenTCP(t, "127.0.0.1:0")
	tlsLn := tls.NewListener(inner, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	s, err := relay.New(relay.Config{
		TLSListeners: []net.Listener{tlsLn},
		Secrets:      relay.NewStaticSecrets("k1", testSecret),
		AllowPeers:   []string{"127.0.0.3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if got := s.URLs(); len(got) != 1 || got[0] != "turns:127.0.0.1:"+portString(inner.Addr())+"?transport=tcp" {
		t.Fatalf("URLs = %v, want one turns: URL", got)
	}
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	conn, err := tls.Dial("tcp", inner.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	user, pass := mint("tls-owned", time.Minute)
	rc, err := allocate(t, turntest.Dial(t, "", inner.Addr().String(), conn, user, pass, s.Realm()))
	if err != nil {
		t.Fatalf("Allocate over the caller's TLS listener: %v", err)
	}
	echoRounds(t, rc, echoPeer(t), 3)
}

// TestCallerSocketsWithAddresses: sockets add to addresses; the relay
// listens on both, and RelayIP comes from the first address.
func TestCallerSocketsWithAddresses(t *testing.T) {
	pc := listenUDP(t, "127.0.0.2:0")
	s := newRelay(t, func(c *relay.Config) {
		c.TCPAddrs = nil
		c.PacketConns = []net.PacketConn{pc}
	})
	if u := s.UDPAddrs(); len(u) != 2 || u[1].String() != pc.LocalAddr().String() {
		t.Fatalf("UDPAddrs = %v: want the relay's own socket, then the caller's", u)
	}
	urls := s.URLs()
	if len(urls) != 3 || !strings.HasPrefix(urls[0], "stun:127.0.0.1:") {
		t.Fatalf("URLs = %v: want stun and turn on the first address, then the caller's port", urls)
	}
	user, pass := mint("both", time.Minute)
	c := turntest.Dial(t, "udp", pc.LocalAddr().String(), nil, user, pass, s.Realm())
	if _, err := allocate(t, c); err != nil {
		t.Fatalf("allocate on the caller's socket: %v", err)
	}
}

// TestNewFailureLeavesCallerSockets: when New fails, it closes the sockets
// it opened and leaves the caller's open.
func TestNewFailureLeavesCallerSockets(t *testing.T) {
	pc := listenUDP(t, "127.0.0.1:0")
	busy := listenTCP(t, "127.0.0.1:0") // the relay's TCP address is taken
	probe := listenUDP(t, "127.0.0.1:0")
	own := probe.LocalAddr().String()
	_ = probe.Close()
	_, err := relay.New(relay.Config{
		UDPAddrs:    []string{own},
		TCPAddrs:    []string{busy.Addr().String()},
		PacketConns: []net.PacketConn{pc},
		Secrets:     relay.NewStaticSecrets("k1", testSecret),
	})
	if err == nil || !strings.Contains(err.Error(), "listen tcp") {
		t.Fatalf("New with a busy TCP address: %v, want a listen error", err)
	}
	if _, err := pc.WriteTo([]byte("still open"), pc.LocalAddr()); err != nil {
		t.Errorf("the caller's socket was closed by the failed New: %v", err)
	}
	again, err := net.ListenPacket("udp4", own)
	if err != nil {
		t.Errorf("the failed New left its own UDP socket on %s open: %v", own, err)
	} else {
		_ = again.Close()
	}
}

// TestDerivedRelayID: without Config.ID, two relays on port 0 get
// different IDs, a relay restarted on the same ports gets its ID back, a
// different RelayIP changes it, and an explicit ID is kept.
func TestDerivedRelayID(t *testing.T) {
	start := func(udp, tcp string, mod func(*relay.Config)) *relay.Server {
		t.Helper()
		cfg := relay.Config{UDPAddrs: []string{udp}, TCPAddrs: []string{tcp}, Secrets: relay.NewStaticSecrets("k1", testSecret)}
		if mod != nil {
			mod(&cfg)
		}
		s, err := relay.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := start("127.0.0.1:0", "127.0.0.1:0", nil)
	b := start("127.0.0.1:0", "127.0.0.1:0", nil)
	idA, idB := a.ID(), b.ID()
	if idA == idB || !strings.HasPrefix(idA, "relay-") || len(idA) != len("relay-")+10 {
		t.Fatalf("two relays on port 0: IDs %q and %q, want two distinct relay-{10 hex}", idA, idB)
	}
	udpA, tcpA := a.UDPAddrs()[0].String(), a.TCPAddrs()[0].String()
	_ = a.Close()
	_ = b.Close()

	again := start(udpA, tcpA, nil)
	if again.ID() != idA {
		t.Errorf("restarted on %s and %s: ID %q, want %q", udpA, tcpA, again.ID(), idA)
	}
	_ = again.Close()
	// Listing the same addresses in another order changes nothing.
	swapped := start(udpA, tcpA, func(c *relay.Config) {
		c.UDPAddrs, c.TCPAddrs = nil, nil
		pc, err := net.ListenPacket("udp4", udpA)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp4", tcpA)
		if err != nil {
			t.Fatal(err)
		}
		c.Listeners, c.PacketConns = []net.Listener{ln}, []net.PacketConn{pc}
	})
	if swapped.ID() != idA {
		t.Errorf("the same bound addresses as caller's sockets: ID %q, want %q", swapped.ID(), idA)
	}
	_ = swapped.Close()
	other := start(udpA, tcpA, func(c *relay.Config) { c.RelayIP = netip.MustParseAddr("127.0.0.9") })
	if other.ID() == idA {
		t.Errorf("another RelayIP kept the ID %q", idA)
	}
	_ = other.Close()
	named := start("127.0.0.1:0", "127.0.0.1:0", func(c *relay.Config) { c.ID = "north-1" })
	if named.ID() != "north-1" {
		t.Errorf("explicit ID: %q", named.ID())
	}
	_ = named.Close()
}

// TestURLsDeduplicated: two sockets on one address have one URL.
func TestURLsDeduplicated(t *testing.T) {
	ln1 := listenTCP(t, "127.0.0.1:0")
	ln2 := &sameAddrListener{Listener: listenTCP(t, "127.0.0.1:0"), addr: ln1.Addr()}
	s, err := relay.New(relay.Config{Listeners: []net.Listener{ln1, ln2}, Secrets: relay.NewStaticSecrets("k1", testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if got := s.URLs(); len(got) != 1 {
		t.Fatalf("URLs = %v, want one", got)
	}
	if got := s.TCPAddrs(); len(got) != 2 {
		t.Fatalf("TCPAddrs = %v, want both listeners", got)
	}
}

// sameAddrListener reports another listener's address, as sockets sharing
// a port do.
type sameAddrListener struct {
	net.Listener
	addr net.Addr
}

func (l *sameAddrListener) Addr() net.Addr { return l.addr }
