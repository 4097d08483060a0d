package relay

// This file lists live sessions and ends them on demand: the kill switch
// for a paused app or a revoked key.

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/pion/turn/v5"
)

// LiveSession is a snapshot of one live allocation. It holds no client or
// peer address.
type LiveSession struct {
	// SessionEvent is the session's start event: SessionID, Username,
	// AppID, KeyID, Gateway, RelayID, Instance, Transport, and At, when the
	// allocation was created. Its ToPeer and ToClient are the payload bytes
	// relayed so far each way, including those not yet reported in a usage
	// delta (zero with metering off, and for TCP allocations, which are not
	// metered).
	SessionEvent
}

// Sessions returns a snapshot of the live allocations, oldest first.
func (s *Server) Sessions() []LiveSession {
	s.mu.Lock()
	out := make([]LiveSession, 0, len(s.sessions))
	for _, ss := range s.sessions {
		ls := LiveSession{SessionEvent: *ss.ev}
		if ss.conn != nil {
			ls.ToPeer, ls.ToClient = ss.conn.toPeer.Load(), ss.conn.toClient.Load()
		}
		out = append(out, ls)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b LiveSession) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.SessionID, b.SessionID))
	})
	return out
}

// endWait bounds how long EndSessions waits for pion to delete an
// allocation before it ends the session itself.
const endWait = 5 * time.Second

// EndSessions ends every live allocation whose start event match accepts,
// and returns how many it ended. match is called without the relay's locks
// held, once per live allocation, with a copy of its start event.
//
// Each allocation is ended as pion ends one whose relayed socket fails: the
// socket stops reading, pion deletes the allocation (freeing its
// permissions and channels) and closes the socket, and a client on TCP or
// TLS has its connection closed too, as that connection holds no other
// allocation. Once the socket is closed, the session's last usage is
// taken, as for any session that ends: the Sink receives the final delta
// (when bytes remain unreported) and then SessionEnded, and each byte is in
// exactly one delta. (A packet whose send to the peer is being counted at
// that very instant can miss the final delta, as when an allocation
// expires.) EndSessions returns once those events are queued, within a few
// seconds at worst. A client on TCP or TLS sees its connection close. A
// client on UDP is not told: its
// relayed data goes nowhere, and its next Refresh, CreatePermission or
// ChannelBind goes unanswered (pion answers no request for an allocation
// it does not have) until the client gives up. A new Allocate is judged
// afresh: the Admitter refuses a paused app.
//
// Most callers match on AppID (an app was paused or deleted) or KeyID (an
// API key was revoked).
func (s *Server) EndSessions(match func(*SessionEvent) bool) int {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0
	}
	s.ending.Add(1)
	defer s.ending.Done()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()

	var picked []*session
	for _, ss := range all {
		ev := *ss.ev
		if match(&ev) {
			picked = append(picked, ss)
			ss.stop()
		}
	}
	deadline := time.NewTimer(endWait)
	defer deadline.Stop()
	late := false
	for _, ss := range picked {
		if !late {
			select {
			case <-ss.done:
				continue
			case <-deadline.C:
				late = true
			}
		}
		select {
		case <-ss.done:
		default:
			s.endStuck(ss)
		}
	}
	return len(picked)
}

// endStuck ends a session whose allocation pion did not delete in time:
// it closes the relayed socket and reports the end itself.
func (s *Server) endStuck(ss *session) {
	s.mu.Lock()
	cur, ok := s.sessions[ss.key]
	if ok && cur == ss {
		delete(s.sessions, ss.key)
	}
	s.mu.Unlock()
	if !ok || cur != ss {
		<-ss.done // being ended by pion's event right now
		return
	}
	if ss.conn != nil {
		_ = ss.conn.Close()
	}
	if ss.listener != nil {
		_ = ss.listener.Close()
	}
	s.endSession(ss)
}

// relayListenerTracker wraps a relay address generator so that the relayed
// TCP listener of an allocation (RFC 6062) can be found by its relayed
// address and closed: closing it makes pion delete the allocation.
type relayListenerTracker struct {
	turn.RelayAddressGenerator
	srv *Server
}

func (g relayListenerTracker) AllocateListener(conf turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	ln, addr, err := g.RelayAddressGenerator.AllocateListener(conf)
	if err != nil {
		return ln, addr, err
	}
	ap, ok := addrPortOf(addr)
	if !ok {
		return ln, addr, nil
	}
	tl := &trackedRelayListener{Listener: ln, srv: g.srv, at: ap}
	g.srv.mu.Lock()
	g.srv.tcpRelays[ap] = tl
	g.srv.mu.Unlock()
	return tl, addr, nil
}

// trackedRelayListener is a relayed TCP listener findable by its relayed
// address until it closes. Close closes it once; later calls return nil,
// so pion's own close after EndSessions is quiet.
type trackedRelayListener struct {
	net.Listener
	srv  *Server
	at   netip.AddrPort
	once sync.Once
}

func (l *trackedRelayListener) Close() error {
	var err error
	l.once.Do(func() {
		l.srv.mu.Lock()
		if l.srv.tcpRelays[l.at] == l {
			delete(l.srv.tcpRelays, l.at)
		}
		l.srv.mu.Unlock()
		err = l.Listener.Close()
	})
	return err
}
