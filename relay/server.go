package relay

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/pion/turn/v5"
)

// Server is a TURN relay (RFC 8656) on pion/turn. It authenticates
// turnkit's REST API credentials (or asks a Config.Authenticator), answers
// unauthenticated sources without amplifying, refuses private and
// special-purpose peers by default, enforces allocation quotas and
// bandwidth caps, meters relayed bytes and reports sessions to a Sink.
// EndSessions ends live allocations on demand.
//
// A Server is safe for concurrent use. Two Servers in one process share
// nothing.
type Server struct {
	cfg      Config
	instance string
	unauth   *admission    // nil when admission is off
	streams  *streamLimits // shared by the TCP and TLS listeners
	peers    *peerRules
	quotas   *quotas
	events   *eventQueue
	turn     *turn.Server
	auth     Authenticator
	pending  *lru.Cache[string, Identity] // identities of Allocates on their way to an allocation (auth.go)
	ctx      context.Context              // passed to the Authenticator and Admitter; cancelled by Close
	cancel   context.CancelFunc

	packetConns []net.PacketConn     // every UDP socket served
	udpAddrs    []net.Addr           // one per Config.UDPAddrs entry and per caller's socket
	udpServed   []*guardedPacketConn // what pion reads, one per socket of packetConns
	listeners   []*trackedListener
	buffers     []SocketBuffer
	urls        []string
	opened      []io.Closer // the sockets the relay opened itself, closed if New fails

	relayConns sync.WaitGroup // one per open relayed UDP socket

	stats struct {
		authFailures atomic.Uint64
		peerRefused  atomic.Uint64
		quotaRefused atomic.Uint64
		overCap      atomic.Uint64
		noPermission atomic.Uint64 // packets from peers without a permission
		// The metered bytes and packets of the sessions that ended, each
		// way.
		endedToPeer, endedToClient, endedPeerPkts, endedClientPkts atomic.Int64
	}

	stopFlush chan struct{} // closed by Close to stop the usage flusher
	flushDone chan struct{} // closed when the flusher has returned

	mu       sync.Mutex                          // guards the following fields
	sessions map[string]*session                 // by client 5-tuple
	conns    map[netip.AddrPort]*relayPacketConn // by advertised relayed address
	closed   bool

	clients   map[string]*gatedConn                    // TCP and TLS client connections, by clientKey
	tcpRelays map[netip.AddrPort]*trackedRelayListener // relayed TCP listeners, by advertised address
	ending    sync.WaitGroup                           // sessions being ended outside Close, and EndSessions calls; Add with mu held
}

// New starts a relay: it opens the configured listeners and serves until
// Close.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	policy, err := NewPeerPolicy(cfg.AllowPeers, cfg.DenyPeers)
	if err != nil {
		return nil, fmt.Errorf("relay: peer policy: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		instance:  randomID(12),
		quotas:    newQuotas(cfg.MaxAllocationsPerUser, cfg.MaxAllocationsPerApp, cfg.MaxAllocations),
		sessions:  make(map[string]*session),
		conns:     make(map[netip.AddrPort]*relayPacketConn),
		streams:   newStreamLimits(cfg),
		stopFlush: make(chan struct{}),
		flushDone: make(chan struct{}),
		auth:      cfg.Authenticator,
		pending:   newPending(),
		clients:   make(map[string]*gatedConn),
		tcpRelays: make(map[netip.AddrPort]*trackedRelayListener),
	}
	if s.auth == nil {
		s.auth = NewRESTAuthenticator(cfg.Secrets)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}
	if s.cfg.ID == "" {
		s.cfg.ID = s.derivedID()
	}
	s.peers = newPeerRules(policy, s.ownAddrs())
	if !cfg.DisableAdmission {
		// The relay-wide cap is on the wall clock: Config.Now may be a
		// settable clock for credentials.
		s.unauth = newAdmission(cfg.AmplificationFactor, cfg.UnauthBytesPerSecond, time.Now)
	}
	gen := &addressGenerator{srv: s, tcp: turn.RelayAddressGeneratorStatic{
		RelayAddress: net.IP(cfg.RelayIP.AsSlice()),
		Address:      cfg.RelayBindIP.String(),
	}}
	if err := gen.Validate(); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("relay: relay address generator: %w", err)
	}
	s.events = newEventQueue(cfg.Sink, cfg.Logger)

	tc := turn.ServerConfig{
		Realm:              cfg.Realm,
		AuthHandler:        s.authenticate,
		QuotaHandler:       func(userID, _ string, _ net.Addr) bool { return s.allowQuota(userID) },
		LoggerFactory:      newLogFactory(cfg.Logger),
		AllocationLifetime: cfg.AllocationLifetime,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(src, dst net.Addr, protocol, userID, realm string, relayAddr net.Addr, port int) {
				s.onAllocationCreated(src, dst, protocol, userID, realm, relayAddr, port)
				s.streamAllocated(src, dst)
				s.fastAllocated(src, relayAddr)
			},
			OnAllocationDeleted: func(src, dst net.Addr, protocol, userID, realm string) {
				s.onAllocationDeleted(src, dst, protocol, userID, realm)
				s.streamReleased(src, dst)
			},
			OnPermissionCreated: func(_, _ net.Addr, _, _, _ string, relayAddr net.Addr, peer net.IP) {
				s.mirrorPermission(relayAddr, peer, true)
			},
			OnPermissionDeleted: func(_, _ net.Addr, _, _, _ string, relayAddr net.Addr, peer net.IP) {
				s.mirrorPermission(relayAddr, peer, false)
			},
			OnChannelCreated: func(_, _ net.Addr, _, _, _ string, relayAddr, peer net.Addr, number uint16) {
				if c := s.connAt(relayAddr); c != nil {
					c.bindChannel(number, peer, true)
				}
			},
			OnChannelDeleted: func(_, _ net.Addr, _, _, _ string, relayAddr, peer net.Addr, number uint16) {
				if c := s.connAt(relayAddr); c != nil {
					c.bindChannel(number, peer, false)
				}
			},
		},
	}
	for _, pc := range s.packetConns {
		g := &guardedPacketConn{PacketConn: newBatchConn(pc, cfg.UDPReadBatch), srv: s, admit: s.unauth, fast: !cfg.DisableFastPath}
		if g.fast {
			uc, _ := pc.(*net.UDPConn)
			g.raw, g.sender = newRawSocket(uc), newRawSender()
		}
		s.udpServed = append(s.udpServed, g)
		lgen := *gen
		lgen.listener = g // each listener's allocations are found from it (fastpath.go)
		tc.PacketConnConfigs = append(tc.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn: g, RelayAddressGenerator: &lgen, PermissionHandler: s.peers.permit,
		})
	}
	for _, ln := range s.listeners {
		tc.ListenerConfigs = append(tc.ListenerConfigs, turn.ListenerConfig{
			Listener: ln, RelayAddressGenerator: gen, PermissionHandler: s.peers.permit,
		})
	}
	s.interpose(&tc)
	ts, err := turn.NewServer(tc)
	if err != nil {
		s.closeListeners()
		s.events.close()
		return nil, fmt.Errorf("relay: start: %w", err)
	}
	s.turn = ts
	go s.flushLoop()
	return s, nil
}

// ID returns the relay's ID: Config.ID, or the one derived from the host
// and the bound listeners (see Config.ID).
func (s *Server) ID() string { return s.cfg.ID }

// MaxAllocations returns the cap on the relay's live allocations.
func (s *Server) MaxAllocations() int { return s.cfg.MaxAllocations }

// Instance returns the ID of this run of the relay, new at every New.
func (s *Server) Instance() string { return s.instance }

// Region returns the relay's region slug.
func (s *Server) Region() string { return s.cfg.Region }

// Realm returns the relay's TURN realm.
func (s *Server) Realm() string { return s.cfg.Realm }

// URLs returns the relay's ICE server URLs: a stun: URL (when it listens on
// UDP) followed by a turn: or turns: URL for every listener, with the
// listener's actual port and the configured PublicHost. Listeners that
// share a port (SO_REUSEPORT sockets) have one URL.
func (s *Server) URLs() []string { return append([]string(nil), s.urls...) }

// UDPAddrs returns the local addresses of the UDP listeners: one for each
// of Config.UDPAddrs (whose UDPSocketsPerAddr sockets share it), then one
// for each of the caller's PacketConns.
func (s *Server) UDPAddrs() []net.Addr { return append([]net.Addr(nil), s.udpAddrs...) }

// TCPAddrs returns the local addresses of the TCP and TLS listeners in the
// order TCPAddrs, Listeners, TLSAddrs, TLSListeners.
func (s *Server) TCPAddrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.Addr()
	}
	return out
}

// SocketBuffers reports the buffer sizes the kernel granted to each UDP
// listener, in the order of UDPAddrs (the sockets that share an address
// asked for the same).
func (s *Server) SocketBuffers() []SocketBuffer { return append([]SocketBuffer(nil), s.buffers...) }

// Close stops the relay: it closes the listeners (the caller's sockets
// too) and every client connection, waits for the allocations' relayed
// sockets to close, ends the sessions still open and delivers the queued
// session events. It returns after the goroutines the relay started have
// finished their work.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	close(s.stopFlush)
	<-s.flushDone

	err := s.turn.Close()
	for _, ln := range s.listeners {
		ln.closeConns()
	}
	waitTimeout(&s.relayConns, 10*time.Second)

	s.mu.Lock()
	left := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	for _, ss := range left {
		s.endSession(ss)
	}
	s.ending.Wait()
	s.events.close()
	if err != nil {
		return fmt.Errorf("relay: close: %w", err)
	}
	return nil
}

// closeListeners closes, when New fails, the sockets the relay opened; the
// caller's stay open.
func (s *Server) closeListeners() {
	for _, c := range s.opened {
		_ = c.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// randomID returns n characters of lowercase base32 from crypto/rand.
func randomID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b)
}
