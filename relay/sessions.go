package relay

// This file tracks live allocations as sessions: their events, metering
// deltas and the periodic usage flush.

import (
	"net"
	"net/netip"
	"time"
)

// session is a live allocation: its start event, what ends it, and what
// has been reported. conn, listener and client are set at creation and
// never change.
type session struct {
	ev       *SessionEvent
	key      string                // in Server.sessions
	conn     *relayPacketConn      // the relayed UDP socket; nil for TCP allocations, which are not metered
	listener *trackedRelayListener // the relayed TCP listener of a TCP allocation, or nil
	client   *gatedConn            // the client's TCP or TLS connection, or nil on UDP
	done     chan struct{}         // closed when the end is queued

	seq                uint64 // last delta's sequence number
	sentPeer, sentClnt int64  // totals reported so far
}

// onAllocationCreated records a new allocation as a session, attributed
// to the identity its Allocate was authenticated with, and queues its
// start event.
func (s *Server) onAllocationCreated(src, dst net.Addr, protocol, userID, _ string, relayAddr net.Addr, _ int) {
	id, ok := s.identityOf(userID)
	s.pending.Remove(userID)
	if !ok {
		s.cfg.Logger.Warn("allocation created without an identity: its session is not attributed to an app")
	}
	ev := &SessionEvent{
		SessionID: randomID(20),
		Username:  userID,
		AppID:     id.AppID,
		KeyID:     id.KeyID,
		Gateway:   id.Gateway,
		RelayID:   s.cfg.ID,
		Instance:  s.instance,
		Transport: transportOf(dst),
		At:        s.cfg.Now(),
	}
	ap, ok := addrPortOf(relayAddr)
	if ok {
		s.peers.bindClient(src.String(), ap)
	}
	s.quotas.add(userID, id.AppID, 1)
	ss := &session{ev: ev, key: tupleKey(src, dst, protocol), done: make(chan struct{})}
	s.mu.Lock()
	ss.conn, ss.listener = s.conns[ap], s.tcpRelays[ap]
	if _, tcp := dst.(*net.TCPAddr); tcp {
		ss.client = s.clients[clientKey(src, dst)]
	}
	s.sessions[ss.key] = ss
	s.mu.Unlock()
	s.events.push(queuedEvent{started: ev})
}

// stop makes pion delete the session's allocation, as it does when a
// relayed socket fails: a past read deadline on the relayed UDP socket, or
// closing the relayed TCP listener, ends pion's read loop of the
// allocation, which then deletes it. A client on TCP or TLS also has its
// connection closed: in pion a connection carries one allocation.
func (ss *session) stop() {
	if ss.conn != nil {
		_ = ss.conn.SetReadDeadline(time.Unix(1, 0))
	}
	if ss.listener != nil {
		_ = ss.listener.Close()
	}
	if ss.client != nil {
		_ = ss.client.Close()
	}
}

// onAllocationDeleted ends the allocation's session. pion calls it after
// closing the relayed socket, so Close, which waits for the sockets, also
// waits (on s.ending) for a session this call took out of s.sessions.
func (s *Server) onAllocationDeleted(src, dst net.Addr, protocol, _, _ string) {
	s.mu.Lock()
	key := tupleKey(src, dst, protocol)
	ss, ok := s.sessions[key]
	if ok {
		delete(s.sessions, key)
		s.ending.Add(1)
	}
	s.mu.Unlock()
	if ok {
		s.endSession(ss)
		s.ending.Done()
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

// endSession reports the session's last usage and its end. It is called
// once per session, by whoever removed it from s.sessions.
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
	s.stats.endedToPeer.Add(ss.sentPeer)
	s.stats.endedToClient.Add(ss.sentClnt)
	if ss.conn != nil {
		s.stats.endedPeerPkts.Add(ss.conn.toPeerPkts.Load())
		s.stats.endedClientPkts.Add(ss.conn.toClientPkts.Load())
	}
	s.events.push(queuedEvent{ended: &ev})
	close(ss.done)
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
