package turnkit_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// fleetKit opens a Kit with its own relay on the shared file.
func fleetKit(t *testing.T, db string, clk *clock, id, region string) *turnkit.Kit {
	t.Helper()
	kit := openKit(t, turnkit.Config{
		DBPath: db,
		Now:    clk.Now,
		Relay: relay.Config{ID: id, Region: region, UDPAddrs: []string{"127.0.0.1:0"},
			AllowPeers: []string{echoIP}},
		// No background loop: the test runs each Sweep itself.
		Fleet: turnkit.FleetConfig{ReportInterval: -1, OfflineAfter: 10 * time.Second,
			DeadAfter: time.Minute, CacheTTL: -1},
	})
	return kit
}

// sweep runs one Sweep of each kit.
func sweep(t *testing.T, kits ...*turnkit.Kit) {
	t.Helper()
	for _, k := range kits {
		if err := k.Sweep(context.Background()); err != nil {
			t.Fatalf("Sweep: %v", err)
		}
	}
}

// relayOf issues a credential through kit and returns the relay it names.
func relayOf(t *testing.T, kit *turnkit.Kit, key string) (string, error) {
	t.Helper()
	cred, err := issueWithKey(context.Background(), kit, key, turnkit.CredentialRequest{})
	if err != nil {
		return "", err
	}
	return cred.RelayID, nil
}

func TestFleetSelection(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	clk := newClock()
	a := fleetKit(t, db, clk, "r-a", "eu-central")
	b := fleetKit(t, db, clk, "r-b", "us-east")
	c := fleetKit(t, db, clk, "r-c", "ap-sydney")
	app, err := a.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	choose := func() string {
		t.Helper()
		id, err := relayOf(t, a, app.Key)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		return id
	}
	if got := choose(); got != "r-a" {
		t.Fatalf("three idle relays: chose %s, want r-a (lowest ID on a tie)", got)
	}

	// Load r-a with an allocation: the least loaded of the others wins.
	peerCred, err := issueWithKey(ctx, a, app.Key, turnkit.CredentialRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cl := turntest.Dial(t, "udp", a.Relay().UDPAddrs()[0].String(), nil, peerCred.Username, peerCred.Password, "turnkit")
	if _, err := turntest.Allocate(t, cl); err != nil {
		t.Fatal(err)
	}
	sweep(t, a)
	if rs, _ := a.Store().ListRelays(ctx); len(rs) != 3 || rs[0].Allocations != 1 {
		t.Fatalf("after r-a's report: %+v, want r-a with one allocation", rs)
	}
	if got := choose(); got != "r-b" {
		t.Fatalf("r-a loaded: chose %s, want r-b", got)
	}

	// r-b drains: it is passed over.
	if err := a.SetRelayDraining(ctx, "r-b", true); err != nil {
		t.Fatal(err)
	}
	if got := choose(); got != "r-c" {
		t.Fatalf("r-b draining: chose %s, want r-c", got)
	}

	// r-c stops reporting: once its last report is older than OfflineAfter,
	// it is excluded; r-a, still reporting, is chosen although loaded.
	clk.Advance(11 * time.Second)
	sweep(t, a, b)
	if got := choose(); got != "r-a" {
		t.Fatalf("r-c offline, r-b draining: chose %s, want r-a", got)
	}
	// r-c comes back, then stops cleanly: Close takes it out of the
	// registry at once, before its last report is old.
	sweep(t, c)
	if err := a.SetRelayDraining(ctx, "r-a", true); err != nil {
		t.Fatal(err)
	}
	if got := choose(); got != "r-c" {
		t.Fatalf("r-c reporting again, r-a and r-b draining: chose %s, want r-c", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if rs, _ := a.Store().ListRelays(ctx); len(rs) != 2 {
		t.Fatalf("after r-c's Close the registry holds %d relays, want 2", len(rs))
	}

	// Nothing healthy: 503 with a clear detail.
	_, err = relayOf(t, a, app.Key)
	if turnkit.HTTPStatus(err) != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(err), "draining") {
		t.Fatalf("no healthy relay: %v (status %d), want 503", err, turnkit.HTTPStatus(err))
	}
}

// TestDeadRelaySessionsClosed: the sessions of a relay that stopped
// reporting longer than DeadAfter are closed by a live node.
func TestDeadRelaySessionsClosed(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	clk := newClock()
	live := fleetKit(t, db, clk, "r-live", "eu")
	st := live.Store()
	if err := st.AnnounceRelay(ctx, store.RelayRecord{ID: "r-dead", Region: "eu", URLs: []string{"turn:192.0.2.1:3478"},
		Instance: "gone", ReportedAt: clk.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := st.OpenSession(ctx, store.Session{ID: "orphan", AppID: "a", Username: "u", RelayID: "r-dead",
		Instance: "gone", StartedAt: clk.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	sweep(t, live)
	if s, _ := st.Session(ctx, "orphan"); !s.Active() {
		t.Fatal("session closed before its relay was dead for DeadAfter")
	}
	clk.Advance(31 * time.Second)
	sweep(t, live)
	if s, err := st.Session(ctx, "orphan"); err != nil || s.Active() {
		t.Fatalf("the dead relay's session is still open after a sweep: %+v, %v", s, err)
	}
}
