package turnkit_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// TestEndToEnd: credentials from the HTTP API, a pion client allocates on
// the embedded relay with them, data goes to an echo peer and comes back;
// over UDP and over TCP to the relay.
func TestEndToEnd(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			tk := newTestKit(t, allowEcho)
			peer := turntest.Echo(t, echoIP)
			cred := tk.credentials("")

			if cred.TTL != 600 {
				t.Errorf("ttl = %d, want 600 (default 10 minutes)", cred.TTL)
			}
			if len(cred.IceServers) != 1 || cred.IceServers[0].Username != cred.Username ||
				cred.IceServers[0].Credential != cred.Credential {
				t.Errorf("iceServers = %+v, want one entry with the same credential", cred.IceServers)
			}
			wantTurn := fmt.Sprintf("turn:%s?transport=%s", hostPort(tk.Relay(), network), network)
			if !contains(cred.URLs, wantTurn) || !strings.HasPrefix(cred.URLs[0], "stun:") {
				t.Errorf("urls = %v, want a stun: URL first and %s", cred.URLs, wantTurn)
			}
			u, err := relay.ParseUsername(cred.Username)
			if err != nil || u.AppID != tk.app.App.ID {
				t.Fatalf("username %q: %v (app %q, want %q)", cred.Username, err, u.AppID, tk.app.App.ID)
			}

			c := tk.dialTURN(network, cred.Username, cred.Credential)
			rc, err := c.allocate()
			if err != nil {
				t.Fatalf("Allocate: %v", err)
			}
			for i := range 3 {
				roundTrip(t, rc, peer, []byte(fmt.Sprintf("hello %d over %s", i, network)))
			}

			ctx := context.Background()
			eventually(t, "an active session in the store", func() bool {
				n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
				return err == nil && n == 1
			})
			if err := rc.Close(); err != nil {
				t.Fatalf("close allocation: %v", err)
			}
			eventually(t, "the session to close", func() bool {
				n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
				return err == nil && n == 0
			})
		})
	}
}

func hostPort(r *relay.Server, network string) string {
	if network == "udp" {
		return r.UDPAddrs()[0].String()
	}
	return r.TCPAddrs()[0].String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRelayRefuses: credentials the relay must not accept for Allocate.
func TestRelayRefuses(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		prepare func(tk *testKit, cred *credResponse)
	}{
		{"expired credential", func(tk *testKit, cred *credResponse) {
			tk.clock.Advance(time.Duration(cred.TTL)*time.Second + time.Minute)
		}},
		{"wrong credential", func(_ *testKit, cred *credResponse) {
			cred.Credential = relay.Credential([]byte("not the relay secret"), cred.Username)
		}},
		{"tampered username", func(_ *testKit, cred *credResponse) {
			cred.Username = strings.Replace(cred.Username, ":", "9:", 1) // later expiry, same credential
		}},
		{"malformed username", func(_ *testKit, cred *credResponse) {
			cred.Username = "alice"
			cred.Credential = "secret"
		}},
		{"retired secret", func(tk *testKit, cred *credResponse) {
			u, _ := relay.ParseUsername(cred.Username)
			if err := tk.KeyRing().Retire(ctx, u.KeyID); err != nil {
				t.Fatalf("Retire: %v", err)
			}
		}},
		{"paused app", func(tk *testKit, _ *credResponse) {
			if err := tk.PauseApp(ctx, tk.app.App.ID); err != nil {
				t.Fatalf("PauseApp: %v", err)
			}
		}},
		{"app marked for deletion", func(tk *testKit, _ *credResponse) {
			if err := tk.MarkAppForDeletion(ctx, tk.app.App.ID); err != nil {
				t.Fatalf("MarkAppForDeletion: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tk := newTestKit(t, allowEcho)
			cred := tk.credentials("")
			tc.prepare(tk, &cred)
			c := tk.dialTURN("udp", cred.Username, cred.Credential)
			if rc, err := c.allocate(); err == nil {
				_ = rc.Close()
				t.Fatal("Allocate succeeded, want refused")
			}
			if n := tk.Relay().Stats().Allocations; n != 0 {
				t.Fatalf("relay has %d allocations, want 0", n)
			}
		})
	}
}

// TestExpiredCredentialKeepsSession: expiry blocks new allocations only; a
// live allocation keeps relaying and refreshing after its credential
// expired.
func TestExpiredCredentialKeepsSession(t *testing.T) {
	tk := newTestKit(t, allowEcho)
	peer := turntest.Echo(t, echoIP)
	cred := tk.credentials(`"expiry_ttl": 1`)
	c := tk.dialTURN("udp", cred.Username, cred.Credential)
	rc, err := c.allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	roundTrip(t, rc, peer, []byte("before expiry"))
	tk.clock.Advance(2 * time.Minute)
	// A new permission (an authenticated request past expiry) and data.
	peer2 := turntest.Echo(t, echoIP)
	roundTrip(t, rc, peer2, []byte("after expiry"))

	c2 := tk.dialTURN("udp", cred.Username, cred.Credential)
	if rc2, err := c2.allocate(); err == nil {
		_ = rc2.Close()
		t.Fatal("a new Allocate with the expired credential succeeded")
	}
}

// TestRotation: a credential minted under secret A still allocates after
// rotation to B; new credentials are signed with B.
func TestRotation(t *testing.T) {
	tk := newTestKit(t, allowEcho)
	peer := turntest.Echo(t, echoIP)
	before := tk.credentials("")
	oldID, _ := tk.KeyRing().Current()
	newID, err := tk.KeyRing().Rotate(context.Background(), nil)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if newID == oldID {
		t.Fatalf("Rotate kept key ID %s", oldID)
	}
	after := tk.credentials("")
	for name, cred := range map[string]credResponse{"minted before rotation": before, "minted after": after} {
		c := tk.dialTURN("udp", cred.Username, cred.Credential)
		rc, err := c.allocate()
		if err != nil {
			t.Fatalf("%s: Allocate: %v", name, err)
		}
		roundTrip(t, rc, peer, []byte(name))
	}
	ub, _ := relay.ParseUsername(before.Username)
	ua, _ := relay.ParseUsername(after.Username)
	if ub.KeyID != oldID || ua.KeyID != newID {
		t.Errorf("key IDs: before %s (want %s), after %s (want %s)", ub.KeyID, oldID, ua.KeyID, newID)
	}
}

// TestSelfRelay: two clients of one relay reach each other through their
// relayed addresses on loopback; a plain loopback peer on the relay's own
// address stays unreachable.
func TestSelfRelay(t *testing.T) {
	tk := newTestKit(t) // default policy: loopback refused
	relayIP := tk.Relay().UDPAddrs()[0].(*net.UDPAddr).IP.String()
	plain := newUDPSink(t, relayIP+":0")

	a := tk.dialCred("udp", tk.credentials(""))
	b := tk.dialCred("udp", tk.credentials(""))
	ra, err := a.allocate()
	if err != nil {
		t.Fatalf("Allocate A: %v", err)
	}
	rb, err := b.allocate()
	if err != nil {
		t.Fatalf("Allocate B: %v", err)
	}
	// B must permit A before A's data can come in, and the reverse.
	if err := b.CreatePermission(ra.LocalAddr()); err != nil {
		t.Fatalf("B permits A's relayed address: %v", err)
	}
	if err := a.CreatePermission(rb.LocalAddr()); err != nil {
		t.Fatalf("A permits B's relayed address: %v", err)
	}
	for i := range 3 {
		sendAndExpect(t, ra, rb, []byte(fmt.Sprintf("a→b %d", i)))
		sendAndExpect(t, rb, ra, []byte(fmt.Sprintf("b→a %d", i)))
	}

	// The relay's host is reachable only at live relayed addresses.
	_, _ = ra.WriteTo([]byte("to a plain loopback port"), plain.pc.LocalAddr())
	plain.expectNothing(t, 500*time.Millisecond)
	if tk.Relay().Stats().PeerRefused == 0 {
		t.Error("PeerRefused = 0 after a send to a plain port of the relay's host")
	}
}

func sendAndExpect(t *testing.T, from, to net.PacketConn, msg []byte) {
	t.Helper()
	if _, err := from.WriteTo(msg, to.LocalAddr()); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	buf := make([]byte, 2048)
	_ = to.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, src, err := to.ReadFrom(buf)
	if err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	if string(buf[:n]) != string(msg) || src.String() != from.LocalAddr().String() {
		t.Fatalf("got %q from %s, want %q from %s", buf[:n], src, msg, from.LocalAddr())
	}
}

// TestLoopbackPeerRefused: with the default policy, CreatePermission to
// 127.0.0.1 is refused and nothing arrives at a listener there.
func TestLoopbackPeerRefused(t *testing.T) {
	tk := newTestKit(t)
	for _, ip := range []string{"127.0.0.1", echoIP} {
		sink := newUDPSink(t, ip+":0")
		c := tk.dialCred("udp", tk.credentials(""))
		rc, err := c.allocate()
		if err != nil {
			t.Fatalf("Allocate: %v", err)
		}
		if err := c.CreatePermission(sink.pc.LocalAddr()); err == nil {
			t.Errorf("CreatePermission to %s succeeded, want refused", sink.pc.LocalAddr())
		}
		_, _ = rc.WriteTo([]byte("must not arrive"), sink.pc.LocalAddr())
		sink.expectNothing(t, 500*time.Millisecond)
	}
}
