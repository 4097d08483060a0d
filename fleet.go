package turnkit

import (
	"context"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/store"
)

// FleetConfig configures the relay registry: how relays report and when
// they count as gone. The zero value is the defaults.
type FleetConfig struct {
	// ReportInterval is how often the Kit does its periodic work (Sweep):
	// the in-process relay reports its load, the key ring is reloaded,
	// dead relays' sessions are closed, paused apps' sessions ended and
	// expired rows deleted. Defaults to 5 seconds. Negative starts no
	// background loop: the embedder calls Kit.Sweep itself.
	ReportInterval time.Duration
	// OfflineAfter is how old a relay's last report may be before it gets
	// no new sessions. Defaults to three ReportIntervals (15 seconds).
	OfflineAfter time.Duration
	// DeadAfter is how long a relay may go without reporting before its
	// open sessions are closed with the usage they last reported. Defaults
	// to one minute.
	DeadAfter time.Duration
	// Lat and Lon locate the in-process relay, in degrees, for choosing
	// relays by distance; HasLocation says they are set.
	Lat, Lon    float64
	HasLocation bool
	// TieDistanceKm makes relays within this distance of the nearest one
	// count as equally near, so the least loaded of them wins. Defaults to
	// 500 km.
	TieDistanceKm float64
	// CacheTTL is how long the issuer reuses one read of the registry.
	// Defaults to one second; negative reads it for every credential.
	CacheTTL time.Duration
	// Capacity is the allocations the in-process relay announces it takes;
	// at or over it, the relay counts as overloaded. Defaults to the
	// relay's MaxAllocations.
	Capacity int
}

func (c FleetConfig) withDefaults(relayMax int) FleetConfig {
	interval := c.ReportInterval
	if interval == 0 {
		c.ReportInterval = 5 * time.Second
		interval = c.ReportInterval
	} else if interval < 0 {
		interval = 5 * time.Second
	}
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 3 * interval
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = time.Minute
	}
	if c.Capacity <= 0 {
		c.Capacity = relayMax
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = time.Second
	}
	return c
}

// SetRelayDraining marks a relay as draining (it keeps its sessions and
// gets no new ones) or takes it back into service.
func (k *Kit) SetRelayDraining(ctx context.Context, relayID string, draining bool) error {
	if err := k.store.SetRelayDraining(ctx, relayID, draining); err != nil {
		return fmt.Errorf("turnkit: relay %s draining %v: %w", relayID, draining, err)
	}
	k.registry.forget()
	k.publish(ctx, store.Change{Kind: store.ChangeRelays})
	return nil
}
