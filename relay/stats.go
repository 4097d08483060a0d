package relay

// This file holds the relay's counters and their snapshot.

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
