package turnkit_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// eventLog records what Config.OnEvent is told.
type eventLog struct {
	ch chan turnkit.Event
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan turnkit.Event, 4096)} }

// handle is the Config.OnEvent.
func (l *eventLog) handle(_ context.Context, ev turnkit.Event) { l.ch <- ev }

// option sets the log as the Kit's OnEvent.
func (l *eventLog) option(c *turnkit.Config) { c.OnEvent = l.handle }

// next returns the next event, failing the test after 5 seconds.
func (l *eventLog) next(t *testing.T) turnkit.Event {
	t.Helper()
	select {
	case ev := <-l.ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return turnkit.Event{}
	}
}

// expect returns the next event and fails the test unless it is of kind.
func (l *eventLog) expect(t *testing.T, kind turnkit.EventKind) turnkit.Event {
	t.Helper()
	ev := l.next(t)
	if ev.Kind != kind {
		t.Fatalf("event %+v, want kind %s", ev, kind)
	}
	return ev
}

// quiet fails the test if an event was queued before a marker: it pauses
// and resumes a throwaway app of kit and expects those two events next
// (events are delivered in order, so any earlier one would come first).
func (l *eventLog) quiet(t *testing.T, kit *turnkit.Kit) {
	t.Helper()
	ctx := context.Background()
	m, err := kit.CreateApp(ctx, turnkit.NewApp{Name: "marker"})
	if err != nil {
		t.Fatal(err)
	}
	if err := kit.PauseApp(ctx, m.App.ID); err != nil {
		t.Fatal(err)
	}
	if ev := l.next(t); ev.Kind != turnkit.EventAppPaused || ev.AppID != m.App.ID {
		t.Fatalf("unexpected event %+v before the marker", ev)
	}
}

// checkNoSecrets fails if an event's text holds an address, a username or
// a key.
func checkNoSecrets(t *testing.T, ev turnkit.Event, secrets ...string) {
	t.Helper()
	text := fmt.Sprintf("%+v", ev)
	for _, s := range append(secrets, "127.0.0.") {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("event %s holds %q", text, s)
		}
	}
}

// TestEventSession: a session through the relay with pion's client is
// told when it starts and when it ends, with its IDs, its transport and,
// at the end, its byte totals each way.
func TestEventSession(t *testing.T) {
	log := newEventLog()
	tk := newTestKit(t, allowEcho, log.option)
	peer := turntest.Echo(t, echoIP)
	cred := tk.credentials("")
	rc, err := tk.dialCred("udp", cred).allocate()
	if err != nil {
		t.Fatal(err)
	}
	started := log.expect(t, turnkit.EventSessionStarted)
	if started.AppID != tk.app.App.ID || started.KeyID != tk.app.KeyID || started.RelayID != tk.Relay().ID() ||
		started.SessionID == "" || started.Transport != "udp" || started.At.IsZero() {
		t.Errorf("start event %+v", started)
	}
	for _, n := range []int{100, 250, 7} {
		roundTrip(t, rc, peer, bytes.Repeat([]byte("s"), n))
	}
	_ = rc.Close()
	ended := log.expect(t, turnkit.EventSessionEnded)
	if ended.SessionID != started.SessionID || ended.AppID != started.AppID || ended.KeyID != started.KeyID {
		t.Errorf("end event %+v does not match start %+v", ended, started)
	}
	if ended.ToPeer != 357 || ended.ToClient != 357 {
		t.Errorf("end event totals to peer %d, to client %d; want 357 each", ended.ToPeer, ended.ToClient)
	}
	for _, ev := range []turnkit.Event{started, ended} {
		checkNoSecrets(t, ev, cred.Username, cred.Credential, tk.app.Key)
	}
	log.quiet(t, tk.Kit)
}

// TestEventLowBalance: usage relayed through the relay that takes an
// app's balance below its threshold is told once, by the event and by
// BillingConfig.OnLowBalance both; more usage below it is not told again.
func TestEventLowBalance(t *testing.T) {
	ctx := context.Background()
	log := newEventLog()
	var (
		mu    sync.Mutex
		calls []turnkit.LowBalance
	)
	tk := newTestKit(t, allowEcho, log.option, func(c *turnkit.Config) {
		c.Billing.OnLowBalance = func(_ context.Context, lb turnkit.LowBalance) {
			mu.Lock()
			calls = append(calls, lb)
			mu.Unlock()
		}
	})
	app := tk.app.App.ID
	if _, err := tk.Ledger().TopUp(ctx, app, 1000, "pay-1"); err != nil {
		t.Fatal(err)
	}
	if err := tk.Ledger().SetLowBalanceThreshold(ctx, app, 600); err != nil {
		t.Fatal(err)
	}
	peer := turntest.Echo(t, echoIP)
	session := func(n int) {
		rc, err := tk.dialCred("udp", tk.credentials("")).allocate()
		if err != nil {
			t.Fatal(err)
		}
		log.expect(t, turnkit.EventSessionStarted)
		roundTrip(t, rc, peer, bytes.Repeat([]byte("b"), n))
		_ = rc.Close() // the final delta is charged as the session ends
	}
	session(250) // 500 bytes billed: 500 left, below 600
	// The final delta is charged before the session's end is delivered.
	low := log.expect(t, turnkit.EventLowBalance)
	if low.AppID != app || low.Balance.Total() != 500 || low.Balance.LowThreshold != 600 || low.At.IsZero() {
		t.Errorf("low-balance event %+v", low)
	}
	log.expect(t, turnkit.EventSessionEnded)
	session(50) // 100 more: still below, not told again
	log.expect(t, turnkit.EventSessionEnded)
	log.quiet(t, tk.Kit)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || calls[0].AppID != app || calls[0].Balance.Total() != 500 {
		t.Errorf("OnLowBalance calls %+v, want one at 500 bytes", calls)
	}
}

// TestEventRelayOffline: a relay of the fleet (a second Kit on the same
// store) that stops reporting is told offline by the next Sweep past
// OfflineAfter, once however many Sweeps follow, and online when it
// reports again; Stats counts it by region.
func TestEventRelayOffline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	clk := newClock()
	log := newEventLog()
	a := openKit(t, turnkit.Config{
		DBPath: db, Now: clk.Now, OnEvent: log.handle,
		Relay: relay.Config{ID: "r-a", Region: "eu-central", UDPAddrs: []string{"127.0.0.1:0"}},
		Fleet: turnkit.FleetConfig{ReportInterval: -1, OfflineAfter: 10 * time.Second, CacheTTL: -1},
	})
	b := fleetKit(t, db, clk, "r-b", "us-east")
	region := func(name string) turnkit.RegionHealth {
		for _, h := range a.Stats().Fleet {
			if h.Region == name {
				return h
			}
		}
		return turnkit.RegionHealth{}
	}
	sweep(t, a, b)
	if h := region("us-east"); h.Healthy != 1 || h.Offline != 0 {
		t.Fatalf("us-east health %+v, want 1 healthy", h)
	}
	clk.Advance(11 * time.Second) // b does not report: it is offline
	sweep(t, a)
	off := log.expect(t, turnkit.EventRelayOffline)
	if off.RelayID != "r-b" || off.Region != "us-east" || !off.At.Equal(clk.Now()) || !off.LastReport.Before(off.At.Add(-10*time.Second)) {
		t.Errorf("offline event %+v", off)
	}
	if h := region("us-east"); h.Offline != 1 || h.Healthy != 0 {
		t.Errorf("us-east health %+v, want 1 offline", h)
	}
	if h := region("eu-central"); h.Healthy != 1 {
		t.Errorf("eu-central health %+v: the Kit's own relay reported", h)
	}
	clk.Advance(time.Second)
	sweep(t, a) // still offline: not told again
	log.quiet(t, a)
	sweep(t, b, a) // b reports again
	on := log.expect(t, turnkit.EventRelayOnline)
	if on.RelayID != "r-b" || on.Region != "us-east" || !on.LastReport.After(off.LastReport) {
		t.Errorf("online event %+v", on)
	}
	if h := region("us-east"); h.Healthy != 1 || h.Offline != 0 {
		t.Errorf("us-east health %+v, want 1 healthy again", h)
	}
}

// TestEventKeyRevoked: revoking a key is told once, with its app; a
// second revocation of the same key changes nothing and is not told.
func TestEventKeyRevoked(t *testing.T) {
	ctx := context.Background()
	log := newEventLog()
	tk := newTestKit(t, log.option)
	keyID, key, err := tk.AddKey(ctx, tk.app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.RevokeKey(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	ev := log.expect(t, turnkit.EventKeyRevoked)
	if ev.KeyID != keyID || ev.AppID != tk.app.App.ID || ev.At.IsZero() {
		t.Errorf("revocation event %+v", ev)
	}
	checkNoSecrets(t, ev, key, tk.app.Key)
	if err := tk.RevokeKey(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	if err := tk.RevokeKey(ctx, "no-such-key"); err == nil {
		t.Fatal("revoking an unknown key succeeded")
	}
	log.quiet(t, tk.Kit)
}

// TestEventAppStatus: pausing an app with a live session on the relay is
// told, with the session's end; pausing it again is not; marking it for
// deletion and resuming it are.
func TestEventAppStatus(t *testing.T) {
	ctx := context.Background()
	log := newEventLog()
	tk := newTestKit(t, allowEcho, log.option)
	app := tk.app.App.ID
	if _, err := tk.dialCred("udp", tk.credentials("")).allocate(); err != nil {
		t.Fatal(err)
	}
	started := log.expect(t, turnkit.EventSessionStarted)
	if err := tk.PauseApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	got := map[turnkit.EventKind]turnkit.Event{}
	for range 2 { // the session's end and the pause, in either order
		ev := log.next(t)
		got[ev.Kind] = ev
	}
	if ev := got[turnkit.EventAppPaused]; ev.AppID != app {
		t.Errorf("pause event %+v (events %+v)", ev, got)
	}
	if ev := got[turnkit.EventSessionEnded]; ev.SessionID != started.SessionID {
		t.Errorf("session end %+v (events %+v)", ev, got)
	}
	if err := tk.PauseApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := tk.MarkAppForDeletion(ctx, app); err != nil {
		t.Fatal(err)
	}
	if ev := log.expect(t, turnkit.EventAppMarkedForDeletion); ev.AppID != app {
		t.Errorf("deletion event %+v", ev)
	}
	if err := tk.ResumeApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if ev := log.expect(t, turnkit.EventAppResumed); ev.AppID != app {
		t.Errorf("resume event %+v", ev)
	}
	if err := tk.PauseApp(ctx, "no-such-app"); err == nil {
		t.Fatal("pausing an unknown app succeeded")
	}
	log.quiet(t, tk.Kit)
}

// TestEventCloseDelivers: Close delivers the end of the sessions it ends
// before it returns, and the handler is not called after it.
func TestEventCloseDelivers(t *testing.T) {
	var (
		mu     sync.Mutex
		events []turnkit.Event
		closed bool
	)
	tk := newTestKit(t, allowEcho, func(c *turnkit.Config) {
		c.OnEvent = func(_ context.Context, ev turnkit.Event) {
			mu.Lock()
			defer mu.Unlock()
			if closed {
				t.Errorf("event %+v after Close returned", ev)
			}
			events = append(events, ev)
		}
	})
	if _, err := tk.dialCred("udp", tk.credentials("")).allocate(); err != nil {
		t.Fatal(err)
	}
	tk.close()
	mu.Lock()
	closed = true
	kinds := make([]turnkit.EventKind, len(events))
	for i, ev := range events {
		kinds[i] = ev.Kind
	}
	mu.Unlock()
	if len(kinds) != 2 || kinds[0] != turnkit.EventSessionStarted || kinds[1] != turnkit.EventSessionEnded {
		t.Fatalf("events by Close: %v, want the session's start and end", kinds)
	}
}
