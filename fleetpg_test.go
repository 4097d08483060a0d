package turnkit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// The environment of a node process of the PostgreSQL fleet tests.
const (
	nodeDSNEnv    = "TURNKIT_NODE_DSN"
	nodeNoHTTPEnv = "TURNKIT_NODE_NO_HTTP"
)

// nodeReportInterval is how often the fleet tests' nodes report.
const nodeReportInterval = 100 * time.Millisecond

// TestFleetNodeProcess is a node of the PostgreSQL fleet tests: a Kit on
// the database with a relay, its credential API and a control API (revoke
// a key, pause an app) on one loopback HTTP server. It prints
// "NODE <http> <relay udp> <relay id>" and serves until its stdin closes
// or it is killed. It runs only when a fleet test starts it.
func TestFleetNodeProcess(t *testing.T) {
	dsn := os.Getenv(nodeDSNEnv)
	if dsn == "" {
		t.Skip("a node process of the PostgreSQL fleet tests")
	}
	kit, err := turnkit.Open(context.Background(), turnkit.Config{
		PostgresDSN: dsn,
		Relay: relay.Config{UDPAddrs: []string{"127.0.0.1:0"}, AllowPeers: []string{echoIP},
			UsageInterval: 50 * time.Millisecond},
		Fleet: turnkit.FleetConfig{ReportInterval: nodeReportInterval},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer kit.Close()
	mux := http.NewServeMux()
	mux.Handle("/v1/", kit.Handler())
	mux.HandleFunc("POST /control/revoke/{key}", func(w http.ResponseWriter, r *http.Request) {
		controlAnswer(w, kit.RevokeKey(r.Context(), r.PathValue("key")))
	})
	mux.HandleFunc("POST /control/pause/{app}", func(w http.ResponseWriter, r *http.Request) {
		controlAnswer(w, kit.PauseApp(r.Context(), r.PathValue("app")))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Printf("NODE %s %s %s\n", ln.Addr(), kit.Relay().UDPAddrs()[0], kit.Relay().ID())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
}

func controlAnswer(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, err.Error(), turnkit.HTTPStatus(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fleetNode is a node process started by a test.
type fleetNode struct {
	t               *testing.T
	cmd             *exec.Cmd
	stdin           interface{ Close() error }
	http, udp, id   string
	killed, stopped bool
}

// startFleetNode starts a node process on the database.
func startFleetNode(t *testing.T, dsn string) *fleetNode {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFleetNodeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), nodeDSNEnv+"="+dsn)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &fleetNode{t: t, cmd: cmd, stdin: stdin}
	t.Cleanup(n.stop)
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "NODE" {
				ready <- f[1:]
			}
		}
	}()
	select {
	case f := <-ready:
		n.http, n.udp, n.id = f[0], f[1], f[2]
	case <-time.After(30 * time.Second):
		t.Fatal("node process not ready within 30 s")
	}
	return n
}

// stop ends the node cleanly (its stdin closes), or by SIGKILL after 10 s.
func (n *fleetNode) stop() {
	if n.stopped {
		return
	}
	n.stopped = true
	_ = n.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil && !n.killed {
			n.t.Errorf("node %s: %v", n.id, err)
		}
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
		n.t.Errorf("node %s did not stop within 10 s", n.id)
	}
}

// kill ends the node with SIGKILL, by its PID.
func (n *fleetNode) kill() {
	n.killed = true
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	n.stop()
}

// credential asks the node's API for a credential: status, and the
// credential on 200.
func (n *fleetNode) credential(key string) (int, credResponse) {
	n.t.Helper()
	res, err := http.Post("http://"+n.http+"/v1/credentials", "application/json", strings.NewReader(`{"key": "`+key+`"}`))
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	var c credResponse
	_ = json.NewDecoder(res.Body).Decode(&c)
	return res.StatusCode, c
}

// control calls the node's control API.
func (n *fleetNode) control(path string) {
	n.t.Helper()
	res, err := http.Post("http://"+n.http+"/control/"+path, "text/plain", nil)
	if err != nil {
		n.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		n.t.Fatalf("control %s: %d", path, res.StatusCode)
	}
}

// allocatesOn reports whether a credential allocates on the relay at udp.
func allocatesOn(t *testing.T, udp string, c credResponse) bool {
	t.Helper()
	cl := turntest.Dial(t, "udp", udp, nil, c.Username, c.Credential, "turnkit")
	_, err := turntest.Allocate(t, cl)
	return err == nil
}

// within polls cond every 10 ms until it holds, and returns how long that
// took; it fails the test after limit.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		<-tick.C
	}
	return time.Since(start)
}

// TestPostgresTwoNodes: two nodes in two processes on one database. A
// credential minted by A allocates on B's relay; a key revoked on A is
// refused by B's issuer and B's relay within 2 s; an app paused on B is
// refused by A's issuer and A's relay within 2 s (notifications, not the
// 30 s cache TTL).
func TestPostgresTwoNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	setup := openKit(t, turnkit.Config{PostgresDSN: dsn, NoRelay: true})
	ctx := context.Background()
	app, err := setup.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	secondID, second, err := setup.AddKey(ctx, app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, b := startFleetNode(t, dsn), startFleetNode(t, dsn)

	status, fromA := a.credential(app.Key)
	if status != http.StatusOK || !allocatesOn(t, b.udp, fromA) {
		t.Fatalf("a credential of node A (status %d) does not allocate on node B's relay", status)
	}

	// Revoke the first key on A.
	mintedBefore := func() credResponse {
		_, c := a.credential(app.Key)
		return c
	}()
	keys, err := setup.Keys(ctx, app.App.ID)
	if err != nil || len(keys) != 2 || keys[1].ID != secondID {
		t.Fatalf("keys %+v, %v: want the first key and then %s", keys, err, secondID)
	}
	firstID := keys[0].ID
	if s, _ := b.credential(app.Key); s != http.StatusOK {
		t.Fatalf("before the revocation B answers %d", s)
	}
	a.control("revoke/" + firstID)
	took := within(t, 2*time.Second, "the revocation on A to reach B's issuer", func() bool {
		s, _ := b.credential(app.Key)
		return s == http.StatusUnauthorized
	})
	t.Logf("a key revoked on node A was refused by node B's issuer %s later", took.Round(time.Millisecond))
	if allocatesOn(t, b.udp, mintedBefore) {
		t.Fatal("B's relay allocated with a credential of the key revoked on A")
	}

	// Pause the app on B.
	mintedBeforePause := func() credResponse {
		_, c := a.credential(second)
		return c
	}()
	b.control("pause/" + app.App.ID)
	took = within(t, 2*time.Second, "the pause on B to reach A's issuer", func() bool {
		s, _ := a.credential(second)
		return s == http.StatusForbidden
	})
	t.Logf("an app paused on node B was refused by node A's issuer %s later", took.Round(time.Millisecond))
	if allocatesOn(t, a.udp, mintedBeforePause) {
		t.Fatal("A's relay allocated for an app paused on B")
	}
}

// TestPostgresRelayKilled: a relay process is killed with SIGKILL in the
// middle of a transfer. The surviving issuer stops handing out its URLs
// once its last report is older than OfflineAfter; after DeadAfter its
// session is closed with the usage it last reported, and the ledger equals
// the session's totals: nothing lost, nothing counted twice.
func TestPostgresRelayKilled(t *testing.T) {
	dsn := pgtest.DSN(t)
	const offline, dead = time.Second, 2 * time.Second
	issuer := openKit(t, turnkit.Config{PostgresDSN: dsn, NoRelay: true,
		Fleet: turnkit.FleetConfig{ReportInterval: -1, OfflineAfter: offline, DeadAfter: dead, CacheTTL: -1}})
	ctx := context.Background()
	app, err := issuer.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	r := startFleetNode(t, dsn)
	cred, err := issuer.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: app.App.ID})
	if err != nil || cred.RelayID != r.id {
		t.Fatalf("credential %+v, %v: want one for relay %s", cred, err, r.id)
	}
	peer := turntest.Echo(t, echoIP)
	cl := turntest.Dial(t, "udp", r.udp, nil, cred.Username, cred.Password, "turnkit")
	rc, err := turntest.Allocate(t, cl)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 700)
	charged := func() int64 { return usageCharged(t, issuer.Store(), app.App.ID) }
	for i := 0; charged() < 5*int64(2*len(msg)); i++ {
		roundTrip(t, rc, peer, msg)
		if i > 2000 {
			t.Fatal("no usage charged after 2,000 round trips")
		}
	}
	roundTrip(t, rc, peer, msg) // one more, maybe not reported when the relay dies
	r.kill()
	killed := time.Now()

	within(t, offline+2*time.Second, "the issuer to stop handing out the dead relay", func() bool {
		_, err := issuer.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: app.App.ID})
		return turnkit.HTTPStatus(err) == http.StatusServiceUnavailable
	})
	t.Logf("the issuer stopped handing out the killed relay %s after the kill (OfflineAfter %s)", time.Since(killed).Round(time.Millisecond), offline)
	if n, _ := issuer.Store().CountActiveSessions(ctx, app.App.ID); n != 1 {
		t.Fatalf("%d active sessions before DeadAfter, want the killed relay's 1", n)
	}
	within(t, dead+2*time.Second, "the killed relay's session to be closed", func() bool {
		if err := issuer.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		n, _ := issuer.Store().CountActiveSessions(ctx, app.App.ID)
		return n == 0
	})
	var totals int64
	entries, _ := issuer.Ledger().Entries(ctx, app.App.ID, 0, 10000)
	sessions := map[string]bool{}
	for _, e := range entries {
		if e.Kind == "usage" {
			sessions[strings.Split(e.Ref, ":")[1]] = true
		}
	}
	for id := range sessions {
		s, err := issuer.Store().Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		totals += s.ToPeer + s.ToClient
	}
	if got := charged(); got != totals || got == 0 {
		t.Fatalf("ledger usage %d, session totals %d: they must be equal", got, totals)
	}
}

// TestPostgresGatewayAndExchange: two issuers, each with a relay, on one
// database: a gateway created through one pins the credentials of both to
// the relay where it has a session, although the other relay is less
// loaded; and the shared exchange carries a long poll on one issuer to a
// publication on the other.
func TestPostgresGatewayAndExchange(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() *turnkit.Kit {
		return openKit(t, turnkit.Config{PostgresDSN: dsn,
			Relay:    relay.Config{UDPAddrs: []string{"127.0.0.1:0"}},
			Fleet:    turnkit.FleetConfig{ReportInterval: -1, CacheTTL: -1},
			Exchange: turnkit.ExchangeConfig{Shared: true, PollInterval: 20 * time.Millisecond}})
	}
	a, b := open(), open()
	ctx := context.Background()
	app, err := a.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := b.Issuer().CreateGateway(ctx, &turnkit.GatewayRequest{AppID: app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: app.App.ID, Gateway: gw})
	if err != nil {
		t.Fatal(err)
	}
	udp := map[string]string{a.Relay().ID(): a.Relay().UDPAddrs()[0].String(), b.Relay().ID(): b.Relay().UDPAddrs()[0].String()}
	cl := turntest.Dial(t, "udp", udp[first.RelayID], nil, first.Username, first.Password, "turnkit")
	if _, err := turntest.Allocate(t, cl); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the gateway's session to be recorded", func() bool {
		n, _ := a.Store().CountActiveSessions(ctx, app.App.ID)
		return n == 1
	})
	sweep(t, a, b) // both relays report: the first one is now the more loaded
	for _, kit := range []*turnkit.Kit{a, b} {
		c, err := kit.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: app.App.ID, Gateway: gw})
		if err != nil {
			t.Fatal(err)
		}
		if c.RelayID != first.RelayID {
			t.Fatalf("a gateway credential went to %s, want the relay of its session %s", c.RelayID, first.RelayID)
		}
	}
	if c, _ := a.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: app.App.ID}); c == nil || c.RelayID == first.RelayID {
		t.Fatalf("a regular credential should go to the less loaded relay, not %s", first.RelayID)
	}

	// The shared exchange across issuers.
	done := make(chan error, 1)
	go func() {
		got, err := b.Exchange().Do(ctx, turnkit.ExchangeRequest{AppID: app.App.ID, Namespace: "room", Wait: 5 * time.Second})
		if err == nil && (len(got) != 1 || got[0].String() != "198.51.100.7:7") {
			err = fmt.Errorf("long poll on B got %v", got)
		}
		done <- err
	}()
	pub := func() error {
		_, err := a.Exchange().Do(ctx, turnkit.ExchangeRequest{AppID: app.App.ID, Namespace: "room",
			Publish: mustAddrPort("198.51.100.7:7")})
		return err
	}
	if err := pub(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the long poll on B did not return")
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
