package selector

import "time"

// Healthy reports whether the relay c may take a new session at now. A
// relay is excluded when it is:
//   - draining;
//   - offline: its last report is older than OfflineAfter (a report in the
//     future, from a clock ahead of ours, counts as fresh);
//   - overloaded: it has a capacity and its allocations are at or above
//     capacity × OverloadRatio.
func (s *Selector) Healthy(c *Candidate, now time.Time) bool {
	return s.healthy(c, now.Add(-s.cfg.OfflineAfter))
}

// healthy is Healthy with the offline cutoff computed once per selection:
// a report before cutoff is too old.
func (s *Selector) healthy(c *Candidate, cutoff time.Time) bool {
	return !c.Draining && !c.LastReport.Before(cutoff) &&
		(c.Capacity <= 0 || float64(c.Allocations) < float64(c.Capacity)*s.cfg.OverloadRatio)
}
