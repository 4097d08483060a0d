package turnkit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// announce registers the in-process relay in the fleet.
func (k *Kit) announce(ctx context.Context) error {
	r := k.relay
	rec := store.RelayRecord{
		ID: r.ID(), Region: r.Region(), URLs: r.URLs(), Capacity: k.fleet.Capacity, Instance: r.Instance(),
		Lat: k.fleet.Lat, Lon: k.fleet.Lon, HasLocation: k.fleet.HasLocation, ReportedAt: k.cfg.Now().UTC(),
	}
	if err := k.store.AnnounceRelay(ctx, rec); err != nil {
		return fmt.Errorf("turnkit: announce relay %s: %w", rec.ID, err)
	}
	k.announced = true
	k.registry.forget()
	k.publish(ctx, store.Change{Kind: store.ChangeRelays})
	return nil
}

// deregister takes the in-process relay out of the registry.
func (k *Kit) deregister() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := k.store.RemoveRelay(ctx, k.relay.ID(), k.relay.Instance()); err != nil {
		return fmt.Errorf("turnkit: deregister relay %s: %w", k.relay.ID(), err)
	}
	k.registry.forget()
	k.publish(ctx, store.Change{Kind: store.ChangeRelays})
	return nil
}

// startBackground starts the periodic Sweep (unless ReportInterval is
// negative) and, when the store carries notifications, the subscription
// that applies other nodes' changes at once.
func (k *Kit) startBackground() {
	if k.fleet.ReportInterval > 0 {
		k.done.Add(1)
		go func() {
			defer k.done.Done()
			t := time.NewTicker(k.fleet.ReportInterval)
			defer t.Stop()
			for {
				select {
				case <-k.stop:
					return
				case <-t.C:
					if err := k.Sweep(context.Background()); err != nil {
						k.log.Error("fleet sweep failed", "err", err)
					}
				}
			}
		}()
	}
	if n, ok := k.store.(store.Notifier); ok {
		ctx, cancel := context.WithCancel(context.Background())
		k.done.Add(2)
		go func() {
			defer k.done.Done()
			<-k.stop
			cancel()
		}()
		// The subscription listens once a change published now comes back:
		// Open waits for that (up to subscribeWait), so that no change
		// another node makes after Open returns is missed.
		marker := "listening:" + randomToken(10)
		listening := make(chan struct{})
		var once sync.Once
		go func() {
			defer k.done.Done()
			err := n.Subscribe(ctx, func(c store.Change) {
				if c.Kind == store.ChangeRelays && c.ID == marker {
					once.Do(func() { close(listening) })
				}
				k.applyChange(c)
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				k.log.Error("change notifications stopped", "err", err)
			}
		}()
		k.awaitListening(n, marker, listening)
	}
}

// subscribeWait bounds how long Open waits for the store's change
// notifications to start; past it, the Kit starts anyway and relies on
// its cache TTLs until they do.
const subscribeWait = 5 * time.Second

// awaitListening publishes the marker until it comes back on the
// subscription, for at most subscribeWait.
func (k *Kit) awaitListening(n store.Notifier, marker string, listening <-chan struct{}) {
	deadline := time.NewTimer(subscribeWait)
	defer deadline.Stop()
	retry := time.NewTicker(25 * time.Millisecond)
	defer retry.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = n.Publish(ctx, store.Change{Kind: store.ChangeRelays, ID: marker}) // a harmless change: the registry cache is dropped
		cancel()
		select {
		case <-listening:
			return
		case <-deadline.C:
			k.log.Warn("change notifications did not start; other nodes' changes are seen within the cache TTLs until they do")
			return
		case <-retry.C:
		}
	}
}

// publish tells the other nodes of a change, when the store can.
func (k *Kit) publish(ctx context.Context, c store.Change) {
	n, ok := k.store.(store.Notifier)
	if !ok {
		return
	}
	if err := n.Publish(ctx, c); err != nil {
		k.log.Warn("change notification not sent; other nodes see it within the cache TTL", "kind", c.Kind, "err", err)
	}
}

// applyChange applies a change another node (or this one) made.
func (k *Kit) applyChange(c store.Change) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch c.Kind {
	case store.ChangeKey:
		k.issuer.auth.forgetKey(c.ID)
	case store.ChangeApp:
		k.issuer.auth.forgetApp(c.ID)
		if err := k.endInactiveApps(ctx, []string{c.ID}); err != nil {
			k.log.Error("app status check failed", "app", c.ID, "err", err)
		}
	case store.ChangeSecrets:
		if err := k.ring.Reload(ctx); err != nil {
			k.log.Error("key ring reload failed", "err", err)
		}
	case store.ChangeRelays:
		k.registry.forget()
	case store.ChangeStaticCredential:
		k.endStatic(c.ID)
	case store.ChangeAll:
		k.issuer.auth.forgetAll()
		k.statics.forgetAll()
		k.registry.forget()
		if err := k.ring.Reload(ctx); err != nil {
			k.log.Error("key ring reload failed", "err", err)
		}
	}
}

// Sweep does the Kit's periodic work now: the in-process relay reports its
// load; the key ring is reloaded (picking up other nodes' rotations); the
// live sessions of apps that were paused or marked for deletion, here or on
// another node, are ended; the open sessions of relays that stopped
// reporting more than DeadAfter ago are closed with the usage they last
// reported; expired exchange entries and credential metadata are deleted.
// The Kit calls it every FleetConfig.ReportInterval; an embedder that sets
// a negative interval calls it itself. It returns the errors it met,
// joined, after doing all it could.
func (k *Kit) Sweep(ctx context.Context) error {
	k.sweepMu.Lock()
	defer k.sweepMu.Unlock()
	now := k.cfg.Now().UTC()
	var errs []error
	if r := k.relay; r != nil && k.announced {
		st := r.Stats()
		var bitrate int64
		if !k.lastAt.IsZero() {
			if secs := now.Sub(k.lastAt).Seconds(); secs > 0 {
				bitrate = int64(float64(st.RelayedBytes-k.lastBytes) * 8 / secs)
			}
		}
		k.lastBytes, k.lastAt = st.RelayedBytes, now
		start := time.Now()
		err := k.store.ReportRelayLoad(ctx, r.ID(), st.Allocations, max(bitrate, 0), now)
		k.stats.timeStore(opReportRelayLoad, start)
		if errors.Is(err, store.ErrNotFound) {
			// Removed from the registry (by an operator, or a store that
			// lost it): announce again.
			err = k.announce(ctx)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("report relay load: %w", err))
		}
	}
	if err := k.ring.Reload(ctx); err != nil {
		errs = append(errs, err)
	}
	if k.relay != nil {
		var apps []string
		for _, s := range k.relay.Sessions() {
			if !slices.Contains(apps, s.AppID) {
				apps = append(apps, s.AppID)
			}
		}
		if err := k.endInactiveApps(ctx, apps); err != nil {
			errs = append(errs, err)
		}
	}
	start := time.Now()
	relays, err := k.store.ListRelays(ctx)
	k.stats.timeStore(opListRelays, start)
	if err != nil {
		errs = append(errs, fmt.Errorf("relay registry: %w", err))
	} else {
		k.watchRelays(relays, now)
	}
	for _, r := range relays {
		if now.Sub(r.ReportedAt) > k.fleet.DeadAfter {
			n, err := k.store.CloseRelaySessions(ctx, r.ID, "", now)
			if err != nil {
				errs = append(errs, fmt.Errorf("close the sessions of dead relay %s: %w", r.ID, err))
			} else if n > 0 {
				k.log.Info("closed the sessions of a relay that stopped reporting", "relay", r.ID, "sessions", n)
			}
		}
	}
	if err := k.exchange.expireShared(ctx); err != nil {
		errs = append(errs, fmt.Errorf("exchange expiry: %w", err))
	}
	if _, err := k.store.ExpireCredentialMetadata(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("credential metadata expiry: %w", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("turnkit: sweep: %w", errors.Join(errs...))
	}
	return nil
}

// endInactiveApps reads the status of each app from the store (not the
// cache) and ends the in-process relay's sessions of those that are not
// active.
func (k *Kit) endInactiveApps(ctx context.Context, apps []string) error {
	if k.relay == nil {
		return nil
	}
	var errs []error
	for _, id := range apps {
		app, err := k.store.App(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("status of app %s: %w", id, err))
			continue
		}
		if app.Status != store.AppActive {
			k.issuer.auth.forgetApp(id)
			k.endAppSessions(id)
		}
	}
	return errors.Join(errs...)
}

// endAppSessions ends the in-process relay's live sessions of an app,
// after reporting their usage.
func (k *Kit) endAppSessions(appID string) {
	if k.relay == nil {
		return
	}
	if n := k.relay.EndSessions(func(ev *relay.SessionEvent) bool { return ev.AppID == appID }); n > 0 {
		k.log.Info("ended the sessions of an app that is no longer active", "app", appID, "sessions", n)
	}
}
