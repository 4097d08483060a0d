package relay

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// Server is a TURN relay (RFC 8656) on pion/turn that authenticates
// turnkit's REST API credentials, refuses private and special-purpose peers
// by default, enforces allocation quotas and reports sessions to a Sink.
//
// A Server is safe for concurrent use. Two Servers in one process share
// nothing.
type Server struct {
	cfg      Config
	instance string
	budget   *replyBudget // nil when UnauthReplyRatio is negative
	peers    *peerRules
	quotas   *quotas
	events   *eventQueue
	turn     *turn.Server

	packetConns []net.PacketConn
	listeners   []*trackedListener
	buffers     []SocketBuffer
	urls        []string

	relayConns sync.WaitGroup // one per open relayed UDP socket

	stats struct {
		authFailures  atomic.Uint64
		peerRefused   atomic.Uint64
		quotaRefused  atomic.Uint64
		overCap       atomic.Uint64
		unauthDropped atomic.Uint64
		endedBytes    atomic.Int64 // metered bytes of sessions that ended
	}

	stopFlush chan struct{} // closed by Close to stop the usage flusher
	flushDone chan struct{} // closed when the flusher has returned

	mu       sync.Mutex                          // guards the following fields
	sessions map[string]*session                 // by client 5-tuple
	conns    map[netip.AddrPort]*relayPacketConn // by advertised relayed address
	closed   bool
}

// session is a live allocation: its start event, its relayed socket (nil
// for TCP allocations, which are not metered) and what has been reported.
type session struct {
	ev                 *SessionEvent
	conn               *relayPacketConn
	seq                uint64 // last delta's sequence number
	sentPeer, sentClnt int64  // totals reported so far
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
		stopFlush: make(chan struct{}),
		flushDone: make(chan struct{}),
	}
	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.peers = newPeerRules(policy, s.ownAddrs())
	if cfg.UnauthReplyRatio > 0 {
		s.budget = newReplyBudget(cfg.UnauthReplyRatio, cfg.UnauthReplyRate, 65536, cfg.Now)
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
			OnAllocationCreated: s.onAllocationCreated,
			OnAllocationDeleted: s.onAllocationDeleted,
			OnPermissionCreated: func(_, _ net.Addr, _, _, _ string, relayAddr net.Addr, peer net.IP) {
				s.mirrorPermission(relayAddr, peer, true)
			},
			OnPermissionDeleted: func(_, _ net.Addr, _, _, _ string, relayAddr net.Addr, peer net.IP) {
				s.mirrorPermission(relayAddr, peer, false)
			},
			OnChannelCreated: func(_, _ net.Addr, _, _, _ string, relayAddr, _ net.Addr, number uint16) {
				if c := s.connAt(relayAddr); c != nil {
					c.bindChannel(number, true)
				}
			},
			OnChannelDeleted: func(_, _ net.Addr, _, _, _ string, relayAddr, _ net.Addr, number uint16) {
				if c := s.connAt(relayAddr); c != nil {
					c.bindChannel(number, false)
				}
			},
		},
	}
	for _, pc := range s.packetConns {
		tc.PacketConnConfigs = append(tc.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn: &guardedPacketConn{PacketConn: pc, srv: s, budget: s.budget}, RelayAddressGenerator: gen, PermissionHandler: s.peers.permit,
		})
	}
	for _, ln := range s.listeners {
		tc.ListenerConfigs = append(tc.ListenerConfigs, turn.ListenerConfig{
			Listener: ln, RelayAddressGenerator: gen, PermissionHandler: s.peers.permit,
		})
	}
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

// listen opens the configured listeners.
func (s *Server) listen() error {
	for _, a := range s.cfg.UDPAddrs {
		pc, err := net.ListenPacket("udp", a)
		if err != nil {
			return fmt.Errorf("relay: listen udp %s: %w", a, err)
		}
		s.packetConns = append(s.packetConns, pc)
		if uc, ok := pc.(*net.UDPConn); ok && s.cfg.ListenerBufferBytes > 0 {
			r, w := setBuffers(uc, s.cfg.ListenerBufferBytes)
			s.buffers = append(s.buffers, SocketBuffer{Addr: pc.LocalAddr().String(),
				Requested: s.cfg.ListenerBufferBytes, Read: r, Write: w})
		}
		s.addURL("turn", pc.LocalAddr(), "udp")
	}
	for _, a := range s.cfg.TCPAddrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("relay: listen tcp %s: %w", a, err)
		}
		s.listeners = append(s.listeners, newTrackedListener(ln, s))
		s.addURL("turn", ln.Addr(), "tcp")
	}
	for _, a := range s.cfg.TLSAddrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("relay: listen tls %s: %w", a, err)
		}
		s.listeners = append(s.listeners, newTrackedListener(tls.NewListener(ln, s.cfg.TLSConfig), s))
		s.addURL("turns", ln.Addr(), "tcp")
	}
	if len(s.packetConns) > 0 {
		s.urls = append([]string{"stun:" + s.hostPort(s.packetConns[0].LocalAddr())}, s.urls...)
	}
	return nil
}

func (s *Server) hostPort(a net.Addr) string {
	ap, _ := addrPortOf(a)
	return net.JoinHostPort(s.cfg.PublicHost, strconv.Itoa(int(ap.Port())))
}

func (s *Server) addURL(scheme string, a net.Addr, transport string) {
	s.urls = append(s.urls, scheme+":"+s.hostPort(a)+"?transport="+transport)
}

// ownAddrs lists the addresses of the relay's host: the relay and bind
// addresses, each listener's address, and every interface address when a
// listener is bound to the unspecified address.
func (s *Server) ownAddrs() []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	add := func(ip netip.Addr) {
		ip = ip.Unmap().WithZone("")
		if ip.IsValid() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	add(s.cfg.RelayIP)
	add(s.cfg.RelayBindIP)
	var addrs []net.Addr
	for _, pc := range s.packetConns {
		addrs = append(addrs, pc.LocalAddr())
	}
	for _, ln := range s.listeners {
		addrs = append(addrs, ln.Addr())
	}
	unspecified := s.cfg.RelayBindIP.IsUnspecified()
	for _, a := range addrs {
		ap, ok := addrPortOf(a)
		if !ok {
			continue
		}
		if ap.Addr().IsUnspecified() {
			unspecified = true
			continue
		}
		add(ap.Addr())
	}
	if unspecified {
		if ifas, err := net.InterfaceAddrs(); err == nil {
			for _, ifa := range ifas {
				if p, err := netip.ParsePrefix(ifa.String()); err == nil {
					add(p.Addr())
				}
			}
		}
	}
	return out
}

// ID returns the relay's ID.
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
// listener's actual port and the configured PublicHost.
func (s *Server) URLs() []string { return append([]string(nil), s.urls...) }

// UDPAddrs returns the local addresses of the UDP listeners.
func (s *Server) UDPAddrs() []net.Addr {
	out := make([]net.Addr, len(s.packetConns))
	for i, pc := range s.packetConns {
		out[i] = pc.LocalAddr()
	}
	return out
}

// TCPAddrs returns the local addresses of the TCP and TLS listeners, in
// configuration order (TCP first).
func (s *Server) TCPAddrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.Addr()
	}
	return out
}

// SocketBuffers reports the buffer sizes the kernel granted to each UDP
// listener.
func (s *Server) SocketBuffers() []SocketBuffer { return append([]SocketBuffer(nil), s.buffers...) }

// Stats is a snapshot of a relay's counters.
type Stats struct {
	// Allocations is the number of live allocations.
	Allocations int
	// AuthFailures counts requests refused for their credential: malformed
	// or expired username, unknown or retired secret, or app refused by the
	// Admitter. Requests with a wrong password are refused by pion's
	// integrity check and are not counted here.
	AuthFailures uint64
	// PeerRefused counts permissions, packets and connections refused by
	// the peer rules after permission time (packets dropped on a relayed
	// socket and refused TCP peers).
	PeerRefused uint64
	// QuotaRefused counts allocations refused with 486.
	QuotaRefused uint64
	// OverCap counts packets dropped for exceeding AllocationBitrate.
	OverCap uint64
	// UnauthDropped counts unauthenticated replies not sent because the
	// source had not paid for them (see UnauthReplyRatio).
	UnauthDropped uint64
	// RelayedBytes is the metered payload relayed since New, both ways:
	// the rate of its growth is the relay's bit rate. Zero with metering
	// off.
	RelayedBytes int64
}

// Stats returns the relay's counters. RelayedBytes sums the live
// allocations' counters here, not on the packet path.
func (s *Server) Stats() Stats {
	total := s.stats.endedBytes.Load()
	s.mu.Lock()
	for _, ss := range s.sessions {
		if ss.conn != nil {
			total += ss.conn.toPeer.Load() + ss.conn.toClient.Load()
		}
	}
	s.mu.Unlock()
	return Stats{
		RelayedBytes:  total,
		Allocations:   s.quotas.count(),
		AuthFailures:  s.stats.authFailures.Load(),
		PeerRefused:   s.stats.peerRefused.Load(),
		QuotaRefused:  s.stats.quotaRefused.Load(),
		OverCap:       s.stats.overCap.Load(),
		UnauthDropped: s.stats.unauthDropped.Load(),
	}
}

func (s *Server) onAllocationCreated(src, dst net.Addr, protocol, userID, _ string, relayAddr net.Addr, _ int) {
	u, _ := ParseUsername(userID)
	ev := &SessionEvent{
		SessionID: randomID(20),
		Username:  userID,
		AppID:     u.AppID,
		RelayID:   s.cfg.ID,
		Instance:  s.instance,
		Transport: transportOf(dst),
		At:        s.cfg.Now(),
	}
	ap, ok := addrPortOf(relayAddr)
	if ok {
		s.peers.bindClient(src.String(), ap)
	}
	s.quotas.add(userID, u.AppID, 1)
	s.mu.Lock()
	s.sessions[tupleKey(src, dst, protocol)] = &session{ev: ev, conn: s.conns[ap]}
	s.mu.Unlock()
	s.events.push(queuedEvent{started: ev})
}

func (s *Server) onAllocationDeleted(src, dst net.Addr, protocol, _, _ string) {
	s.mu.Lock()
	key := tupleKey(src, dst, protocol)
	ss, ok := s.sessions[key]
	delete(s.sessions, key)
	s.mu.Unlock()
	if ok {
		s.endSession(ss)
	}
}

// registerConn makes a relayed socket findable by its relayed address, for
// the allocation and permission events that name it.
func (s *Server) registerConn(c *relayPacketConn) {
	s.mu.Lock()
	s.conns[c.advertised] = c
	s.mu.Unlock()
}

// unregisterConn forgets a closed relayed socket.
func (s *Server) unregisterConn(c *relayPacketConn) {
	s.mu.Lock()
	if s.conns[c.advertised] == c {
		delete(s.conns, c.advertised)
	}
	s.mu.Unlock()
}

// connAt returns the relayed socket at a relayed address, or nil.
func (s *Server) connAt(relayAddr net.Addr) *relayPacketConn {
	ap, ok := addrPortOf(relayAddr)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[ap]
}

// connOf returns the relayed socket of the allocation a client holds, or
// nil.
func (s *Server) connOf(client net.Addr) *relayPacketConn {
	ap, ok := s.peers.relayedOf(client.String())
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[ap]
}

// mirrorPermission copies a permission change into the relayed socket's
// mirror, which metering reads.
func (s *Server) mirrorPermission(relayAddr net.Addr, peer net.IP, on bool) {
	ap, ok := addrPortOf(relayAddr)
	ip, ok2 := netip.AddrFromSlice(peer)
	if !ok || !ok2 {
		return
	}
	s.mu.Lock()
	c := s.conns[ap]
	s.mu.Unlock()
	if c != nil {
		c.setPermission(ip, on)
	}
}

// endSession reports the session's last usage and its end.
func (s *Server) endSession(ss *session) {
	s.quotas.add(ss.ev.Username, ss.ev.AppID, -1)
	now := s.cfg.Now()
	s.mu.Lock()
	d := s.takeDelta(ss, now, true)
	s.mu.Unlock()
	if d != nil {
		s.events.push(queuedEvent{usage: d})
	}
	ev := *ss.ev
	ev.At = now
	ev.ToPeer, ev.ToClient = ss.sentPeer, ss.sentClnt
	s.stats.endedBytes.Add(ss.sentPeer + ss.sentClnt)
	s.events.push(queuedEvent{ended: &ev})
}

// takeDelta returns the usage since the last delta, or nil if there is none
// (a final delta is returned only when it carries bytes). s.mu is held.
func (s *Server) takeDelta(ss *session, now time.Time, final bool) *UsageDelta {
	if ss.conn == nil {
		return nil
	}
	peer, clnt := ss.conn.toPeer.Load(), ss.conn.toClient.Load()
	dp, dc := peer-ss.sentPeer, clnt-ss.sentClnt
	if dp == 0 && dc == 0 {
		return nil
	}
	ss.seq++
	ss.sentPeer, ss.sentClnt = peer, clnt
	return &UsageDelta{
		SessionID: ss.ev.SessionID, AppID: ss.ev.AppID, RelayID: s.cfg.ID,
		Seq: ss.seq, ToPeer: dp, ToClient: dc, At: now, Final: final,
	}
}

// flushLoop reports every live session's usage each UsageInterval.
func (s *Server) flushLoop() {
	defer close(s.flushDone)
	t := time.NewTicker(s.cfg.UsageInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopFlush:
			return
		case <-t.C:
			s.flush()
		}
	}
}

// flush reports the usage of every live session since its last delta.
func (s *Server) flush() {
	now := s.cfg.Now()
	var deltas []*UsageDelta
	s.mu.Lock()
	for _, ss := range s.sessions {
		if d := s.takeDelta(ss, now, false); d != nil {
			deltas = append(deltas, d)
		}
	}
	s.mu.Unlock()
	for _, d := range deltas {
		s.events.push(queuedEvent{usage: d})
	}
}

func tupleKey(src, dst net.Addr, protocol string) string {
	return protocol + "|" + src.String() + "|" + dst.String()
}

func transportOf(a net.Addr) string {
	if _, ok := a.(*net.TCPAddr); ok {
		return "tcp"
	}
	return "udp"
}

// Close stops the relay: it closes the listeners and every client
// connection, waits for the allocations' relayed sockets to close, ends the
// sessions still open and delivers the queued session events. It returns
// after the goroutines the relay started have finished their work.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
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
	s.events.close()
	if err != nil {
		return fmt.Errorf("relay: close: %w", err)
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, pc := range s.packetConns {
		_ = pc.Close()
	}
	for _, ln := range s.listeners {
		_ = ln.Close()
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

// trackedListener remembers accepted connections so Close can end them:
// pion's server closes its listeners but not the TCP connections it
// accepted.
type trackedListener struct {
	net.Listener
	srv *Server

	mu     sync.Mutex // guards the following fields
	conns  map[net.Conn]struct{}
	closed bool
}

func newTrackedListener(ln net.Listener, srv *Server) *trackedListener {
	return &trackedListener{Listener: ln, srv: srv, conns: make(map[net.Conn]struct{})}
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, ln: l, guard: streamGuard{srv: l.srv}}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackedListener) closeConns() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		_ = c.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	ln    *trackedListener
	guard streamGuard // used by the one goroutine that reads the conn

	wmu sync.Mutex // guards pad
	pad []byte     // scratch for padded ChannelData
}

// Read returns the client's frames that pass the guard.
func (c *trackedConn) Read(p []byte) (int, error) {
	for len(c.guard.ready) == 0 {
		buf := make([]byte, 4096)
		n, err := c.Conn.Read(buf)
		if n > 0 {
			c.guard.feed(buf[:n], c)
		}
		if err != nil {
			if len(c.guard.ready) > 0 {
				break
			}
			return 0, err
		}
	}
	n := copy(p, c.guard.ready)
	c.guard.ready = c.guard.ready[n:]
	return n, nil
}

// Write pads ChannelData to a multiple of four bytes, as TCP framing
// requires (see padChannelData); the byte count returned is that of p.
func (c *trackedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	out := padChannelData(p, c.pad)
	if len(out) == len(p) {
		return c.Conn.Write(p)
	}
	c.pad = out[:0]
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *trackedConn) Close() error {
	c.ln.mu.Lock()
	delete(c.ln.conns, c)
	c.ln.mu.Unlock()
	return c.Conn.Close()
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
