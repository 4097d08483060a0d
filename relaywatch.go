package turnkit

import (
	"cmp"
	"slices"
	"time"

	"github.com/turnkit/turnkit/store"
)

// relayWatch follows the health of the registry's relays from one Sweep
// to the next: it counts them by region and state for Stats, and turns
// each crossing of OfflineAfter into EventRelayOffline or
// EventRelayOnline. Sweep uses it under sweepMu.
type relayWatch struct {
	offline map[string]bool // by relay ID: offline at the previous Sweep
}

// observe takes the registry as Sweep listed it at now and returns the
// health by region (sorted by region) and the events of the relays whose
// state crossed OfflineAfter since the previous call. A relay seen for
// the first time counts as online before: one already silent is told
// offline. Relays that left the registry are forgotten without an event.
func (w *relayWatch) observe(relays []store.RelayRecord, now time.Time, offlineAfter time.Duration) ([]RegionHealth, []Event) {
	if w.offline == nil {
		w.offline = make(map[string]bool)
	}
	seen := make(map[string]bool, len(relays))
	var health []RegionHealth
	var events []Event
	for _, r := range relays {
		i := slices.IndexFunc(health, func(h RegionHealth) bool { return h.Region == r.Region })
		if i < 0 {
			health = append(health, RegionHealth{Region: r.Region})
			i = len(health) - 1
		}
		h := &health[i]
		off := now.Sub(r.ReportedAt) > offlineAfter
		switch {
		case off:
			h.Offline++
		case r.Draining:
			h.Draining++
		case r.Capacity > 0 && r.Allocations >= r.Capacity:
			h.Full++
		default:
			h.Healthy++
		}
		seen[r.ID] = true
		if was := w.offline[r.ID]; was != off {
			kind := EventRelayOffline
			if !off {
				kind = EventRelayOnline
			}
			events = append(events, Event{Kind: kind, At: now, RelayID: r.ID, Region: r.Region, LastReport: r.ReportedAt})
		}
		w.offline[r.ID] = off
	}
	for id := range w.offline {
		if !seen[id] {
			delete(w.offline, id)
		}
	}
	slices.SortFunc(health, func(a, b RegionHealth) int { return cmp.Compare(a.Region, b.Region) })
	return health, events
}

// watchRelays records the registry's health for Stats and emits the
// relays' offline and online crossings. Sweep calls it under sweepMu.
func (k *Kit) watchRelays(relays []store.RelayRecord, now time.Time) {
	health, events := k.watch.observe(relays, now, k.fleet.OfflineAfter)
	k.stats.setFleet(health, now)
	for _, ev := range events {
		k.emit(ev)
	}
}
