package selector

import "time"

// Candidate is what the caller knows of one relay when a session is to be
// placed: its identity, where it is, and the health and load it last
// reported. The selector reads candidates and keeps none of them.
type Candidate struct {
	// ID identifies the relay. IDs should be unique: the lowest ID wins
	// a final tie, which makes the choice independent of the order of
	// the candidates.
	ID string
	// Region is the relay's region slug, such as "eu-central". Region
	// names are compared exactly, case included.
	Region string
	// Location is where the relay is; it is used only when HasLocation is
	// set and it is [Location.Valid].
	Location Location
	// HasLocation is set when Location is known.
	HasLocation bool
	// Capacity is the most allocations the relay takes; zero (or less)
	// means no stated limit: the relay is never overloaded, and its load
	// is its allocation count rather than a fraction (see Allocations).
	Capacity int
	// Allocations is the relay's live allocation count, as last reported.
	// Its load for tie-breaking is Allocations/Capacity; without a
	// capacity it is Allocations itself, so in a fleet that mixes both
	// such a relay compares as full from its first allocation. Give every
	// relay a capacity for loads that compare fairly.
	Allocations int
	// Bitrate is the relay's recent relayed rate in bits per second, as
	// last reported; zero when idle or unknown. Among relays tied on
	// distance with equal load, the lower bit rate wins. Optional.
	Bitrate int64
	// LastReport is when the relay last reported; a relay whose last
	// report is older than Config.OfflineAfter is offline. The zero time
	// means it never reported.
	LastReport time.Time
	// Draining is set for a relay that keeps its sessions but takes no
	// new ones.
	Draining bool
}

// load is the candidate's load for tie-breaking: allocations over
// capacity, or the allocation count for a relay without a capacity.
func (c *Candidate) load() float64 {
	if c.Capacity > 0 {
		return float64(c.Allocations) / float64(c.Capacity)
	}
	return float64(c.Allocations)
}

// lighter reports whether c, of load cLoad, goes before b, of load bLoad,
// among relays tied on distance: lower load, then lower bit rate, then
// lower ID. It is a strict total order on relays with distinct IDs.
func lighter(c *Candidate, cLoad float64, b *Candidate, bLoad float64) bool {
	if cLoad != bLoad {
		return cLoad < bLoad
	}
	if c.Bitrate != b.Bitrate {
		return c.Bitrate < b.Bitrate
	}
	return c.ID < b.ID
}
