package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// childEnv marks a run of the test binary as a quickstart process.
const childEnv = "TURNKIT_QUICKSTART_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// node is a quickstart process started by a test.
type node struct {
	t      *testing.T
	cmd    *exec.Cmd
	http   string
	turn   string // the relay's UDP address
	apiKey string // printed on the demo app's creation, if this node made it
	exited chan error
}

var (
	httpLine = regexp.MustCompile(`http=(127\.0\.0\.1:\d+)`)
	turnLine = regexp.MustCompile(`turn:(127\.0\.0\.1:\d+)\?transport=udp`)
	keyLine  = regexp.MustCompile(`(?m)^api key: (tk_[a-z2-7]+)`)
)

// startNode runs the quickstart in a child process with args and waits
// until it serves (or fails: then the node's exit error is returned).
func startNode(t *testing.T, args ...string) (*node, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, cmd: cmd, exited: make(chan error, 1)}
	lines := make(chan string, 64)
	scan := func(r io.Reader) {
		s := bufio.NewScanner(r)
		for s.Scan() {
			lines <- s.Text()
		}
	}
	go scan(stdout)
	go scan(stderr)
	go func() { n.exited <- cmd.Wait() }()
	t.Cleanup(func() { n.stop(syscall.SIGKILL) })
	deadline := time.After(20 * time.Second)
	demo := false // the demo app line (its key, or that it exists) was seen
	for n.http == "" || n.turn == "" || !demo {
		select {
		case l := <-lines:
			if m := keyLine.FindStringSubmatch(l); m != nil {
				n.apiKey, demo = m[1], true
			}
			demo = demo || strings.HasPrefix(l, "demo app")
			if m := httpLine.FindStringSubmatch(l); m != nil && strings.Contains(l, "running") {
				n.http = m[1]
				if m := turnLine.FindStringSubmatch(l); m != nil {
					n.turn = m[1]
				}
			}
		case err := <-n.exited:
			n.exited <- err
			return nil, fmt.Errorf("quickstart exited: %v", err)
		case <-deadline:
			t.Fatal("quickstart did not start within 20 s")
		}
	}
	go func() { // keep draining its output
		for range lines {
		}
	}()
	return n, nil
}

// stop signals the node's process (by its PID) and waits for it to end.
func (n *node) stop(sig syscall.Signal) {
	if n.cmd.ProcessState != nil {
		return
	}
	_ = n.cmd.Process.Signal(sig)
	select {
	case err := <-n.exited:
		n.exited <- err
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		n.t.Errorf("quickstart %d did not stop within 15 s", n.cmd.Process.Pid)
	}
}

// credential asks the node for a credential, failing the test unless it
// gets one.
func (n *node) credential(key string) (user, pass string, urls []string) {
	n.t.Helper()
	status, user, pass, urls := n.ask(key)
	if status != http.StatusOK {
		n.t.Fatalf("credentials from %s: status %d", n.http, status)
	}
	return user, pass, urls
}

// ask asks the node for a credential.
func (n *node) ask(key string) (status int, user, pass string, urls []string) {
	n.t.Helper()
	res, err := http.Post("http://"+n.http+"/v1/credentials", "application/json", strings.NewReader(`{"key": "`+key+`"}`))
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Username, Credential string
		URLs                 []string
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		n.t.Fatalf("credentials from %s: status %d, %v", n.http, res.StatusCode, err)
	}
	return res.StatusCode, body.Username, body.Credential, body.URLs
}

// allocates reports whether a credential allocates on a relay.
func allocates(t *testing.T, relayAddr, user, pass string) bool {
	t.Helper()
	c := turntest.Dial(t, "udp", relayAddr, nil, user, pass, "turnkit")
	_, err := turntest.Allocate(t, c)
	return err == nil
}

func openStore(t *testing.T, db string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestNodesWithDifferentSecrets: a second node started with another
// -turn-secret rotates the shared secret; the first node's relay accepts
// the second node's credentials at once, and the first node's own
// credentials keep working.
func TestNodesWithDifferentSecrets(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	a, err := startNode(t, "-db", db, "-http", "127.0.0.1:0", "-turn", "127.0.0.1:0", "-turn-secret", "first secret, 16+ bytes")
	if err != nil {
		t.Fatal(err)
	}
	b, err := startNode(t, "-db", db, "-http", "127.0.0.1:0", "-turn", "127.0.0.1:0", "-turn-secret", "second secret, 16+ bytes")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		user, pass, _ := b.credential(a.apiKey)
		if !allocates(t, a.turn, user, pass) {
			t.Fatalf("credential %d from the second node refused by the first node's relay", i+1)
		}
	}
	user, pass, _ := a.credential(a.apiKey)
	if !allocates(t, b.turn, user, pass) {
		t.Fatal("a credential from the first node refused by the second node's relay")
	}
}

// TestFailedStartLeavesNothing: a node that cannot bind its relay port
// changes nothing in the store: no secret rotated, no relay registered.
func TestFailedStartLeavesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	a, err := startNode(t, "-db", db, "-http", "127.0.0.1:0", "-turn", "127.0.0.1:0", "-turn-secret", "first secret, 16+ bytes")
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, db)
	ctx := context.Background()
	secrets, _ := st.ListSecrets(ctx)
	relays, _ := st.ListRelays(ctx)
	if _, err := startNode(t, "-db", db, "-http", "127.0.0.1:0", "-turn", a.turn, "-turn-secret", "second secret, 16+ bytes"); err == nil {
		t.Fatal("a second node on the first node's relay port started")
	}
	after, _ := st.ListSecrets(ctx)
	if len(after) != len(secrets) || after[len(after)-1].ID != secrets[len(secrets)-1].ID || !after[len(after)-1].NotAfter.IsZero() {
		t.Fatalf("the failed start changed the key ring: %d secrets before, %d after", len(secrets), len(after))
	}
	if rs, _ := st.ListRelays(ctx); len(rs) != len(relays) {
		t.Fatalf("the failed start left a relay row: %d relays before, %d after", len(relays), len(rs))
	}
	user, pass, _ := a.credential(a.apiKey)
	if !allocates(t, a.turn, user, pass) {
		t.Fatal("the first node's credential no longer allocates")
	}
}

// TestNodesWithSameAddressFlags: two nodes started with the same
// "-turn 127.0.0.1:0" get relays of their own: distinct IDs and URLs, and
// the second does not close the first's live session.
func TestNodesWithSameAddressFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	args := []string{"-db", db, "-http", "127.0.0.1:0", "-turn", "127.0.0.1:0"}
	a, err := startNode(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	user, pass, _ := a.credential(a.apiKey)
	c := turntest.Dial(t, "udp", a.turn, nil, user, pass, "turnkit")
	if _, err := turntest.Allocate(t, c); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, db)
	ctx := context.Background()
	turntest.Eventually(t, "the first node's session to be recorded", func() bool {
		n, _ := st.CountActiveSessions(ctx, "demo")
		return n == 1
	})
	b, err := startNode(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := st.ListRelays(ctx)
	if len(rs) != 2 || rs[0].ID == rs[1].ID || strings.Join(rs[0].URLs, " ") == strings.Join(rs[1].URLs, " ") {
		t.Fatalf("registry after two nodes with the same flags: %+v", rs)
	}
	if n, _ := st.CountActiveSessions(ctx, "demo"); n != 1 {
		t.Fatalf("the second node's start closed the first node's session: %d active, want 1", n)
	}
	_ = b
}

// TestCleanStopLeavesRegistry: after a node stops on SIGTERM, the other
// node stops handing out its relay at once. The first node's own relay is
// drained, so before the stop every credential names the second node's.
func TestCleanStopLeavesRegistry(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	args := []string{"-db", db, "-http", "127.0.0.1:0", "-turn", "127.0.0.1:0"}
	a, err := startNode(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := startNode(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, db)
	ctx := context.Background()
	rs, _ := st.ListRelays(ctx)
	for _, r := range rs {
		if slices.Contains(r.URLs, "turn:"+a.turn+"?transport=udp") {
			if err := st.SetRelayDraining(ctx, r.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	onB := func(urls []string) bool { return slices.Contains(urls, "turn:"+b.turn+"?transport=udp") }
	turntest.Eventually(t, "the first node to send clients to the second node's relay", func() bool {
		status, _, _, urls := a.ask(a.apiKey)
		return status == http.StatusOK && onB(urls)
	})
	b.stop(syscall.SIGTERM)
	if err := <-b.exited; err != nil {
		t.Fatalf("the second node did not stop cleanly: %v", err)
	}
	// The first node's registry cache lives a second at most: from then on
	// no credential names the stopped relay (and, with the first relay
	// drained, there is none to give: 503).
	stopped := time.Now()
	pace := time.NewTicker(10 * time.Millisecond)
	defer pace.Stop()
	for ; ; <-pace.C {
		status, _, _, urls := a.ask(a.apiKey)
		if !onB(urls) {
			if status != http.StatusServiceUnavailable {
				t.Fatalf("with the only other relay drained: status %d, want 503", status)
			}
			break
		}
		if time.Since(stopped) > 1500*time.Millisecond {
			t.Fatalf("1.5 s after the second node stopped, the first still hands out its relay %s", b.turn)
		}
	}
	t.Logf("the first node stopped naming the stopped relay %s after it exited", time.Since(stopped).Round(time.Millisecond))
	for range 20 {
		if _, _, _, urls := a.ask(a.apiKey); onB(urls) {
			t.Fatalf("the first node hands out the stopped node's relay %s", b.turn)
		}
	}
}
