package turnkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
)

// TestExchangeShared: two issuers on one store share namespaces; a long
// poll on one returns when a peer publishes through the other; addresses
// expire after 10 minutes without activity; limits hold across issuers.
func TestExchangeShared(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	clk := newClock()
	timers := newManualTimers()
	open := func(newTimer func(time.Duration) turnkit.Timer) *turnkit.Kit {
		kit := openKit(t, turnkit.Config{DBPath: db, NoRelay: true, Now: clk.Now,
			Relays: []turnkit.RelayEndpoint{{ID: "r", Region: "x", URLs: []string{"turn:192.0.2.1:3478"}}},
			Exchange: turnkit.ExchangeConfig{Shared: true, PollInterval: 20 * time.Millisecond, MaxAddrsPerNamespace: 3,
				NewTimer: newTimer}})
		return kit
	}
	a, b := open(nil), open(timers.New)
	app, err := a.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	do := func(kit *turnkit.Kit, addr string, wait time.Duration) ([]netip.AddrPort, error) {
		req := turnkit.ExchangeRequest{AppID: app.App.ID, Namespace: "room", Wait: wait}
		if addr != "" {
			req.Publish = netip.MustParseAddrPort(addr)
		}
		return kit.Exchange().Do(ctx, req)
	}
	if got, err := do(a, "198.51.100.1:1", 0); err != nil || len(got) != 0 {
		t.Fatalf("first publish on A: %v, %v", got, err)
	}
	if got, _ := do(b, "198.51.100.2:2", 0); fmt.Sprint(got) != "[198.51.100.1:1]" {
		t.Fatalf("B sees %v, want A's address", got)
	}
	// A long poll on B wakes when a third peer publishes through A: B has
	// read the namespace once when it sets its first poll timer; A
	// publishes; B's poll timer fires and its next read sees the change.
	done := make(chan []netip.AddrPort, 1)
	go func() {
		got, _ := do(b, "", 5*time.Second)
		done <- got
	}()
	if d := timers.Next(t).D; d != 5*time.Second {
		t.Fatalf("first timer of the long poll lasts %s, want the wait (5s)", d)
	}
	poll := timers.Next(t)
	if poll.D != 20*time.Millisecond {
		t.Fatalf("second timer of the long poll lasts %s, want the poll interval", poll.D)
	}
	if _, err := do(a, "198.51.100.3:3", 0); err != nil {
		t.Fatal(err)
	}
	poll.Fire()
	select {
	case got := <-done:
		if len(got) != 3 {
			t.Fatalf("long poll returned %v, want three peers", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the long poll on B did not see the publish on A")
	}
	// The namespace is full across issuers.
	if _, err := do(b, "198.51.100.4:4", 0); !errors.Is(err, turnkit.ErrLimitExceeded) {
		t.Fatalf("fourth address: %v, want ErrLimitExceeded", err)
	}
	// Ten minutes without activity: gone, for both issuers.
	clk.Advance(10*time.Minute + time.Second)
	for _, kit := range []*turnkit.Kit{a, b} {
		if got, _ := do(kit, "", 0); len(got) != 0 {
			t.Fatalf("after expiry: %v", got)
		}
	}
}
