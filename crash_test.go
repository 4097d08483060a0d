package turnkit_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

const crashRelayID = "crash-relay"

// TestCrashChild is the relay process TestRelayCrash kills. It runs only
// when that test starts it.
func TestCrashChild(t *testing.T) {
	db, key := os.Getenv("TURNKIT_CRASH_DB"), os.Getenv("TURNKIT_CRASH_KEY")
	if db == "" {
		t.Skip("helper process of TestRelayCrash")
	}
	kit, err := turnkit.Open(context.Background(), turnkit.Config{
		DBPath: db,
		Relay: relay.Config{ID: crashRelayID, UDPAddrs: []string{"127.0.0.1:0"},
			AllowPeers: []string{echoIP}, UsageInterval: 50 * time.Millisecond},
		Fleet: turnkit.FleetConfig{ReportInterval: crashReportInterval},
	})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := issueWithKey(context.Background(), kit, key, turnkit.CredentialRequest{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY %s %s %s\n", kit.Relay().UDPAddrs()[0], cred.Username, cred.Password)
	<-time.After(60 * time.Second) // until killed; bounded if the parent dies first
	t.Fatal("not killed within 60 s")
}

// crashReportInterval is the fleet report interval of the crash test's
// relays: a restart under the same configured ID waits one and a half of
// them to see that the old instance stopped reporting.
const crashReportInterval = 200 * time.Millisecond

// TestRelayCrash kills a relay process with SIGKILL in the middle of a
// transfer, then starts a new one on the same file: the ledger keeps what
// was charged before the kill, nothing is charged twice, and the dead
// relay's session is closed with the usage it last reported.
func TestRelayCrash(t *testing.T) {
	if os.Getenv("TURNKIT_CRASH_DB") != "" {
		t.Skip("inside the child")
	}
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "turnkit.db")
	setup, err := turnkit.Open(ctx, turnkit.Config{DBPath: db, NoRelay: true})
	if err != nil {
		t.Fatal(err)
	}
	app, err := setup.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	setup.Close()

	child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	child.Env = append(os.Environ(), "TURNKIT_CRASH_DB="+db, "TURNKIT_CRASH_KEY="+app.Key)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "READY" {
				ready <- f[1:]
				return
			}
		}
	}()
	var f []string
	select {
	case f = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the child relay did not start within 20 s")
	}

	peer := turntest.Echo(t, echoIP)
	rc, err := turntest.Allocate(t, turntest.Dial(t, "udp", f[0], nil, f[1], f[2], "turnkit"))
	if err != nil {
		t.Fatalf("Allocate on the child relay: %v", err)
	}

	// Send continuously; kill the child once the ledger shows usage.
	var sent atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		msg := make([]byte, 500)
		pace := time.NewTicker(time.Millisecond)
		defer pace.Stop()
		for {
			select {
			case <-stop:
				return
			case <-pace.C:
			}
			if n, err := rc.WriteTo(msg, peer); err == nil {
				sent.Add(int64(n))
			}
		}
	}()
	reader, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	eventually(t, "usage charged by the child", func() bool { return usageCharged(t, reader, app.App.ID) > 0 })
	// Two more flushes, so that the kill comes mid-transfer with usage
	// already charged in several deltas.
	for range 2 {
		before := usageCharged(t, reader, app.App.ID)
		eventually(t, "another usage delta", func() bool { return usageCharged(t, reader, app.App.ID) > before })
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(stop)
	<-done

	before := usageCharged(t, reader, app.App.ID)
	active, _ := reader.CountActiveSessions(ctx, app.App.ID)
	if active != 1 {
		t.Fatalf("%d active sessions after the kill, want the dead relay's 1", active)
	}

	// A new process of the same relay closes the session it left, once it
	// has seen that the dead one no longer reports.
	kit, err := turnkit.Open(ctx, turnkit.Config{DBPath: db,
		Relay: relay.Config{ID: crashRelayID, UDPAddrs: []string{"127.0.0.1:0"}},
		Fleet: turnkit.FleetConfig{ReportInterval: crashReportInterval}})
	if err != nil {
		t.Fatal(err)
	}
	defer kit.Close()
	if n, _ := kit.Store().CountActiveSessions(ctx, app.App.ID); n != 0 {
		t.Fatalf("%d active sessions after the restart, want 0", n)
	}
	after := usageCharged(t, kit.Store(), app.App.ID)
	if after != before {
		t.Fatalf("ledger usage %d after the restart, %d before: nothing may be lost or charged twice", after, before)
	}
	var totals int64
	entries, _ := kit.Ledger().Entries(ctx, app.App.ID, 0, 10000)
	for _, e := range entries {
		if e.Kind == "usage" {
			s, err := kit.Store().Session(ctx, strings.Split(e.Ref, ":")[1])
			if err != nil {
				t.Fatal(err)
			}
			totals = s.ToPeer + s.ToClient
		}
	}
	if totals != before || before > 2*sent.Load() {
		t.Fatalf("session totals %d, ledger %d, bytes sent %d (×2 with echoes)", totals, before, sent.Load())
	}
	journalMatches(t, kit.Ledger(), kit.Store(), app.App.ID)
	t.Logf("charged %d bytes before the kill; the client had sent %d", before, sent.Load())
}

// usageCharged sums the usage entries of an app's journal.
func usageCharged(t *testing.T, st store.Store, appID string) int64 {
	t.Helper()
	entries, err := st.Entries(context.Background(), appID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, e := range entries {
		if e.Kind == "usage" {
			sum -= e.Subscription + e.PAYG
		}
	}
	return sum
}
