// Package turntest holds what the tests of several turnkit packages share:
// a pion TURN client connected over loopback ([Dial]), an allocation that
// closes with the test ([Allocate]), a bounded poll ([Eventually]), a UDP
// echo peer to relay to ([Echo]), and coturn run beside turnkit: its
// turnserver started on a free port and stopped by its PID with the test
// ([StartCoturn]), its other programs ([CoturnTool], [StartProcess],
// [FreePort]). A test that needs coturn and finds it missing is skipped,
// or fails when TURNKIT_REQUIRE_ALL=1. The privacy tests share a log
// buffer ([Buffer]) and their checks of logs and files ([CheckLogsLack],
// [CheckFilesLack]).
package turntest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// RTO is the clients' retransmission timeout: short, since loopback is
// fast, so tests that wait for a retransmission stay quick.
const RTO = 100 * time.Millisecond

// Dial connects a pion client to the TURN server at server over "udp",
// "tcp" or an established conn (for TLS): exactly one of network and conn
// is set. The client closes with the test.
func Dial(t testing.TB, network, server string, conn net.Conn, user, pass, realm string) *turn.Client {
	t.Helper()
	var pc net.PacketConn
	switch {
	case conn != nil:
		pc = turn.NewSTUNConn(conn)
	case network == "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc = c
	case network == "tcp":
		c, err := net.DialTimeout("tcp", server, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		pc = turn.NewSTUNConn(c)
	default:
		t.Fatalf("turntest.Dial: network %q", network)
	}
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: pc,
		Username: user, Password: pass, Realm: realm, RTO: RTO,
	})
	if err != nil {
		t.Fatalf("turn.NewClient: %v", err)
	}
	if err := client.Listen(); err != nil {
		t.Fatalf("client.Listen: %v", err)
	}
	t.Cleanup(func() { client.Close(); _ = pc.Close() })
	return client
}

// Allocate allocates within 3 seconds. The allocation closes with the
// test (before the client does), which stops the client's refresh timers.
func Allocate(t testing.TB, c *turn.Client) (net.PacketConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rc, err := c.AllocateWithContext(ctx)
	if err == nil {
		t.Cleanup(func() { _ = rc.Close() })
	}
	return rc, err
}

// Eventually polls cond until it holds, failing the test after 5 seconds.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
