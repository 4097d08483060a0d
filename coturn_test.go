package turnkit_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// requireTool returns the path of an external program the test needs. It
// skips without it, unless TURNKIT_REQUIRE_ALL=1 (as in CI), where a missing
// tool fails the test.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TURNKIT_REQUIRE_ALL") == "1" {
			t.Fatalf("%s is not installed and TURNKIT_REQUIRE_ALL=1 (apt-get install coturn)", name)
		}
		t.Skipf("%s is not installed (apt-get install coturn); skipping", name)
	}
	return path
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP at the
// time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// lockedBuffer collects a child process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProcess runs a child until the test ends.
func startProcess(t *testing.T, path string, args ...string) *lockedBuffer {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(path), err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return out
}

const coturnSecret = "coturn-shared-secret-0123456789"

// TestCoturnAcceptsIssuedCredentials: credentials minted by turnkit's
// Issuer allocate on a coturn turnserver sharing the secret
// (static-auth-secret), so turnkit can front an existing coturn fleet.
func TestCoturnAcceptsIssuedCredentials(t *testing.T) {
	turnserver := requireTool(t, "turnserver")
	port := freePort(t)
	dir := t.TempDir()
	logs := startProcess(t, turnserver, "-n",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port="+strconv.Itoa(port),
		"--use-auth-secret", "--static-auth-secret="+coturnSecret, "--realm=turnkit",
		"--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--no-software-attribute",
		"--userdb="+filepath.Join(dir, "turndb"), "--pidfile="+filepath.Join(dir, "turnserver.pid"),
		"--log-file=stdout", "--simple-log")
	coturnAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitUDP(t, coturnAddr, logs)

	tk := newTestKit(t, func(c *turnkit.Config) {
		c.NoRelay = true
		c.RelaySecret = coturnSecret
		c.Relays = []turnkit.RelayEndpoint{{ID: "coturn", Region: "local",
			URLs: []string{"turn:" + coturnAddr + "?transport=udp", "turn:" + coturnAddr + "?transport=tcp"}}}
	})
	peer := udpEcho(t)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			cred := tk.credentials("")
			if cred.Region != "local" || cred.URLs[0] != "turn:"+coturnAddr+"?transport=udp" {
				t.Fatalf("credential points at %v (%s), want the coturn relay", cred.URLs, cred.Region)
			}
			c := dialServer(t, network, coturnAddr, cred.Username, cred.Credential)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			rc, err := c.AllocateWithContext(ctx)
			if err != nil {
				t.Fatalf("Allocate on coturn: %v\ncoturn log:\n%s", err, logs)
			}
			defer rc.Close()
			roundTrip(t, rc, peer, []byte("through coturn over "+network))

			// And the same credential with a wrong password is refused.
			bad := dialServer(t, network, coturnAddr, cred.Username, relay.Credential([]byte("other secret"), cred.Username))
			ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel2()
			if rc2, err := bad.AllocateWithContext(ctx2); err == nil {
				rc2.Close()
				t.Fatal("coturn accepted a credential signed with another secret")
			}
		})
	}
}

// dialServer connects a pion client to a TURN server over udp or tcp.
func dialServer(t *testing.T, network, addr, user, pass string) *turn.Client {
	t.Helper()
	return turntest.Dial(t, network, addr, nil, user, pass, "turnkit")
}

// waitUDP waits until a STUN binding request to addr is answered.
func waitUDP(t *testing.T, addr string, logs fmt.Stringer) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, Conn: conn, RTO: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := client.SendBindingRequest(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer STUN within 10 s; its output:\n%s", addr, logs)
		}
	}
}

var lostRe = regexp.MustCompile(`Total lost packets (\d+) \(`)
var sentRe = regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)

// TestUclientThroughRelay: coturn's turnutils_uclient, signing with the
// TURN REST API secret itself (-W), relays through turnkit's relay to
// coturn's turnutils_peer, with zero loss at a modest rate, over UDP and TCP.
func TestUclientThroughRelay(t *testing.T) {
	uclient := requireTool(t, "turnutils_uclient")
	peerTool := requireTool(t, "turnutils_peer")
	peerPort := freePort(t)
	startProcess(t, peerTool, "-L", echoIP, "-p", strconv.Itoa(peerPort))

	tk := newTestKit(t, allowEcho, func(c *turnkit.Config) { c.RelaySecret = coturnSecret })
	keyID, _ := tk.KeyRing().Current()
	// uclient -W builds "{expiry}:{-u value}" and signs it with the secret:
	// with -u "{app}_{key id}.{nonce}" that is a turnkit username.
	user := tk.app.App.ID + "_" + keyID + ".uclient"
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			port := strconv.Itoa(tk.Relay().UDPAddrs()[0].(*net.UDPAddr).Port)
			args := []string{"-c", "-n", "50", "-m", "2", "-l", "200", "-z", "5",
				"-e", echoIP, "-r", strconv.Itoa(peerPort), "-L", "127.0.0.1",
				"-W", coturnSecret, "-u", user}
			if network == "tcp" {
				port = strconv.Itoa(tk.Relay().TCPAddrs()[0].(*net.TCPAddr).Port)
				args = append([]string{"-t"}, args...)
			}
			args = append(args, "-p", port, "127.0.0.1")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, uclient, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("turnutils_uclient: %v\n%s", err, out)
			}
			lost := lostRe.FindSubmatch(out)
			sent := sentRe.FindAllSubmatch(out, -1)
			if lost == nil || len(sent) == 0 {
				t.Fatalf("turnutils_uclient printed no totals:\n%s", out)
			}
			last := sent[len(sent)-1]
			if string(lost[1]) != "0" || string(last[1]) != "100" || string(last[2]) != "100" {
				t.Fatalf("lost %s, sent %s, received %s; want 0 lost of 100:\n%s", lost[1], last[1], last[2], out)
			}
		})
	}
}
