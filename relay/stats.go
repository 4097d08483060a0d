package relay

// This file holds the relay's counters and their snapshot.

// Stats is a snapshot of a relay's counters.
type Stats struct {
	// Allocations is the number of live allocations.
	Allocations int
	// AuthFailures counts requests refused for their credential: refused
	// by the authenticator (a malformed username, an unknown or retired
	// secret), expired, or refused by the Admitter at Allocate or Refresh.
	// Requests with a wrong password are refused by pion's integrity check
	// and are not counted here.
	AuthFailures uint64
	// PeerRefused counts permissions, packets and connections refused by
	// the peer rules after permission time (packets dropped on a relayed
	// socket and refused TCP peers).
	PeerRefused uint64
	// QuotaRefused counts allocations refused with 486.
	QuotaRefused uint64
	// OverCap counts packets dropped for exceeding AllocationBitrate.
	OverCap uint64
	// UnauthReplies and UnauthReplyBytes count the UDP replies sent
	// without MESSAGE-INTEGRITY (see AmplificationFactor), and their bytes.
	UnauthReplies, UnauthReplyBytes uint64
	// UnauthDropped counts unauthenticated UDP replies not sent because the
	// source had not paid for them (AmplificationFactor).
	UnauthDropped uint64
	// UnauthOverRate counts unauthenticated UDP replies not sent because
	// the relay-wide UnauthBytesPerSecond was spent.
	UnauthOverRate uint64
	// TCPRefused counts TCP and TLS connections closed at accept by
	// MaxPendingTCPConnsPerSource or MaxTCPConnsPerListener; TCPEvicted,
	// those displaced at the listener cap by a newer connection.
	TCPRefused, TCPEvicted uint64
	// TCPTimedOut counts connections closed at TCPIdleTimeout without an
	// allocation.
	TCPTimedOut uint64
	// TCPNotTURN counts connections closed for bytes that are neither
	// STUN nor ChannelData (an HTTP request, TLS on the plain port).
	TCPNotTURN uint64
	// NoPermission counts packets from peers the allocation holds no
	// permission for, which pion drops.
	NoPermission uint64
	// RelayedBytes is the metered payload relayed since New, both ways:
	// the rate of its growth is the relay's bit rate. Zero with metering
	// off.
	RelayedBytes int64
	// BytesToPeer and BytesToClient split RelayedBytes by direction;
	// PacketsToPeer and PacketsToClient count their packets. UDP
	// allocations only (TCP allocations are not metered).
	BytesToPeer, BytesToClient, PacketsToPeer, PacketsToClient int64
}

// Stats returns the relay's counters. The byte and packet counts sum the
// live allocations' counters here, not on the packet path.
func (s *Server) Stats() Stats {
	st := Stats{
		BytesToPeer:     s.stats.endedToPeer.Load(),
		BytesToClient:   s.stats.endedToClient.Load(),
		PacketsToPeer:   s.stats.endedPeerPkts.Load(),
		PacketsToClient: s.stats.endedClientPkts.Load(),
		NoPermission:    s.stats.noPermission.Load(),
		Allocations:     s.quotas.count(),
		AuthFailures:    s.stats.authFailures.Load(),
		PeerRefused:     s.stats.peerRefused.Load(),
		QuotaRefused:    s.stats.quotaRefused.Load(),
		OverCap:         s.stats.overCap.Load(),
		TCPRefused:      s.streams.refused.Load(),
		TCPEvicted:      s.streams.evicted.Load(),
		TCPTimedOut:     s.streams.timedOut.Load(),
		TCPNotTURN:      s.streams.notTURN.Load(),
	}
	s.mu.Lock()
	for _, ss := range s.sessions {
		if c := ss.conn; c != nil {
			st.BytesToPeer += c.toPeer.Load()
			st.BytesToClient += c.toClient.Load()
			st.PacketsToPeer += c.toPeerPkts.Load()
			st.PacketsToClient += c.toClientPkts.Load()
		}
	}
	s.mu.Unlock()
	st.RelayedBytes = st.BytesToPeer + st.BytesToClient
	if a := s.unauth; a != nil {
		st.UnauthReplies, st.UnauthReplyBytes = a.replies.Load(), a.replyBytes.Load()
		st.UnauthDropped, st.UnauthOverRate = a.overFactor.Load(), a.overRelay.Load()
	}
	return st
}
