package turntest

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// CoturnOptions configures [StartCoturn].
type CoturnOptions struct {
	// Secret is the TURN REST API secret (coturn's static-auth-secret)
	// that coturn checks credentials against, the one a Kit signs them
	// with as its RelaySecret. Required.
	Secret string

	// Realm is coturn's realm. Defaults to "turnkit", the realm of a
	// Kit's own relay.
	Realm string
}

// Coturn is a coturn turnserver started by [StartCoturn].
type Coturn struct {
	// Addr is where it listens, "127.0.0.1:port", on both UDP and TCP.
	Addr string

	proc *Process
}

// Output returns what turnserver has logged so far, for failure messages.
func (c *Coturn) Output() string { return c.proc.Output() }

// coturnStartTimeout bounds how long StartCoturn waits for turnserver to
// answer.
const coturnStartTimeout = 10 * time.Second

// StartCoturn runs coturn's turnserver on a free port of 127.0.0.1 (UDP
// and TCP, no TLS or DTLS, no CLI) with the TURN REST API secret of opts,
// until the test ends; it returns once turnserver answers a STUN binding
// request over UDP and accepts TCP connections. Its user database, PID
// file and working files are in a directory of the test's. coturn
// refuses loopback peers by default, but its relayed addresses are on
// 127.0.0.1, so it runs with --allow-loopback-peers for two of its clients
// (or a client and a loopback peer) to reach each other.
//
// Without turnserver the test is skipped, or fails when
// TURNKIT_REQUIRE_ALL=1; it fails when turnserver does not answer within
// 10 seconds, showing its log.
func StartCoturn(t testing.TB, opts CoturnOptions) *Coturn {
	t.Helper()
	if opts.Secret == "" {
		t.Fatal("turntest.StartCoturn: CoturnOptions.Secret is required")
	}
	if opts.Realm == "" {
		opts.Realm = "turnkit"
	}
	turnserver := CoturnTool(t, "turnserver")
	port := FreePort(t)
	dir := t.TempDir()
	c := &Coturn{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	c.proc = StartProcess(t, turnserver, "-n",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port="+strconv.Itoa(port),
		"--use-auth-secret", "--static-auth-secret="+opts.Secret, "--realm="+opts.Realm,
		"--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--no-software-attribute",
		"--userdb="+filepath.Join(dir, "turndb"), "--pidfile="+filepath.Join(dir, "turnserver.pid"),
		"--log-file=stdout", "--simple-log")
	waitCoturn(t, c)
	return c
}

// waitCoturn polls c until it answers a STUN binding request over UDP and
// accepts a TCP connection, failing the test after coturnStartTimeout.
func waitCoturn(t testing.TB, c *Coturn) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: c.Addr, Conn: conn, RTO: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(coturnStartTimeout)
	for {
		if _, err := client.SendBindingRequest(); err == nil && acceptsTCP(c.Addr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("turnserver on %s did not answer STUN over UDP and accept TCP within %s; its output:\n%s",
				c.Addr, coturnStartTimeout, c.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// acceptsTCP reports whether a TCP connection to addr succeeds.
func acceptsTCP(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}
