package selector

import (
	"fmt"
	"math"
	"time"
)

// Defaults for the zero fields of Config.
const (
	// DefaultTieDistanceKm is the default Config.TieDistanceKm.
	DefaultTieDistanceKm = 500
	// DefaultOfflineAfter is the default Config.OfflineAfter: three missed
	// reports at turnkit's 5-second report interval.
	DefaultOfflineAfter = 15 * time.Second
	// DefaultOverloadRatio is the default Config.OverloadRatio: a relay at
	// or over its capacity is overloaded.
	DefaultOverloadRatio = 1.0
)

// Config configures a Selector. Every field is optional: the zero Config
// selects by region and load alone, with the defaults below.
type Config struct {
	// Locator places client IPs. Nil means no GeoIP: relays are chosen by
	// region rules and load alone, as if every relay were equally near.
	Locator Locator

	// TieDistanceKm is the tie band: relays within this distance of the
	// nearest relay count as equally near, and the least loaded of them
	// wins. Defaults to 500 km ([DefaultTieDistanceKm]). A tiny value such
	// as 0.001 (one metre) makes only equidistant relays tie; a value of
	// 20,000 km or more makes every relay tie, choosing by load alone.
	TieDistanceKm float64

	// OfflineAfter is how old a relay's last report may be before the
	// relay counts as offline. Defaults to 15 seconds
	// ([DefaultOfflineAfter]): three reports at a 5-second interval.
	OfflineAfter time.Duration

	// OverloadRatio is the fraction of its capacity at which a relay is
	// overloaded and excluded: it is excluded when its allocations are at
	// or above Capacity × OverloadRatio. Defaults to 1
	// ([DefaultOverloadRatio]): at or over capacity. Use 0.9 to keep
	// headroom, or more than 1 to oversubscribe.
	OverloadRatio float64

	// Now returns the current time, against which report ages are
	// measured. Defaults to time.Now; tests inject a fixed clock.
	Now func() time.Time
}

// Selector chooses the relay for a new session. It is safe for concurrent
// use and keeps no state between calls: the candidates and the request
// are passed to every Select.
type Selector struct {
	cfg Config
}

// New returns a Selector for cfg, with zero fields set to their defaults.
// It returns an error for a negative, NaN or infinite TieDistanceKm or
// OverloadRatio, or a negative OfflineAfter.
func New(cfg Config) (*Selector, error) {
	if cfg.TieDistanceKm < 0 || math.IsNaN(cfg.TieDistanceKm) || math.IsInf(cfg.TieDistanceKm, 0) {
		return nil, fmt.Errorf("selector: config: TieDistanceKm %v is not a distance", cfg.TieDistanceKm)
	}
	if cfg.OverloadRatio < 0 || math.IsNaN(cfg.OverloadRatio) || math.IsInf(cfg.OverloadRatio, 0) {
		return nil, fmt.Errorf("selector: config: OverloadRatio %v is not a positive ratio", cfg.OverloadRatio)
	}
	if cfg.OfflineAfter < 0 {
		return nil, fmt.Errorf("selector: config: OfflineAfter %v is negative", cfg.OfflineAfter)
	}
	if cfg.TieDistanceKm == 0 {
		cfg.TieDistanceKm = DefaultTieDistanceKm
	}
	if cfg.OfflineAfter == 0 {
		cfg.OfflineAfter = DefaultOfflineAfter
	}
	if cfg.OverloadRatio == 0 {
		cfg.OverloadRatio = DefaultOverloadRatio
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Selector{cfg: cfg}, nil
}
