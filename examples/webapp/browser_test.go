package main

import (
	"bytes"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/browsertest"
	"github.com/turnkit/turnkit/internal/turntest"
)

// TestCallThroughRelay clicks "Call" in headless Chromium: the page's two
// peer connections, with iceTransportPolicy "relay" and only the TURN URLs
// of one transport, connect through the embedded relay (which allows no
// extra peers: they reach each other at their relayed addresses), every
// message arrives in order, both selected pairs are relay/relay over the
// chosen transport, the relay metered the traffic, the allocations end
// with the call, and the page logs no error.
//
// With TURNKIT_SCREENSHOTS set to a directory, the page after each call is
// saved there as webapp-udp.png and webapp-tcp.png.
func TestCallThroughRelay(t *testing.T) {
	b := browsertest.Start(t, browsertest.Options{})
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			app := startApp(t, nil)
			const messages, payload = 40, 64
			r := clickCall(t, b, app.url, transport, messages)

			if r.Received != messages || !r.InOrder {
				t.Errorf("received %d of %d messages, in order: %v", r.Received, messages, r.InOrder)
			}
			relayIP := app.kit.Relay().UDPAddrs()[0].(*net.UDPAddr).IP.String()
			for side, p := range map[string]pairInfo{"offerer": r.Pair, "answerer": r.AnswererPair} {
				if p.Local.Type != "relay" || p.Remote.Type != "relay" {
					t.Errorf("%s's selected pair is %s/%s, want relay/relay", side, p.Local.Type, p.Remote.Type)
				}
				if p.Local.RelayProtocol != transport {
					t.Errorf("%s reaches the relay over %q, want %q", side, p.Local.RelayProtocol, transport)
				}
				// A relayed transport address is UDP whatever the client's
				// transport to the relay (RFC 8656).
				if p.Local.Protocol != "udp" || p.Remote.Protocol != "udp" {
					t.Errorf("%s's pair protocols are %s/%s, want udp/udp", side, p.Local.Protocol, p.Remote.Protocol)
				}
				if p.Local.Address != relayIP || p.Remote.Address != relayIP {
					t.Errorf("%s's pair is %s ↔ %s, want both at the relay's %s", side, p.Local.Address, p.Remote.Address, relayIP)
				}
			}
			if r.Pair.Local.Port != r.AnswererPair.Remote.Port || r.Pair.Remote.Port != r.AnswererPair.Local.Port {
				t.Errorf("the two sides selected different pairs: %+v and %+v", r.Pair, r.AnswererPair)
			}
			for side, cands := range r.Candidates {
				for _, c := range cands {
					if !strings.Contains(c, " typ relay") {
						t.Errorf("%s gathered a candidate that is not a relay one: %s", side, c)
					}
				}
			}
			if r.Pair.BytesSent < messages*payload {
				t.Errorf("the offerer's pair sent %d bytes, less than the %d bytes of payload", r.Pair.BytesSent, messages*payload)
			}
			// Each byte crosses two allocations: out of the sender's to the
			// peer, and out of the receiver's to its client.
			// And the relay refused nothing: its own host is closed to
			// peers except the live relayed addresses the two sides use.
			if !r.Relay.InProcess || r.Relay.RelayedBytes < 2*messages*payload || r.Relay.Allocations != 2 || r.Relay.PeerRefused != 0 {
				t.Errorf("the relay's meter during the call: %+v, want 2 allocations, at least %d bytes and nothing refused", r.Relay, 2*messages*payload)
			}
			if r.PingRttMs <= 0 {
				t.Errorf("ping-pong RTT %.2f ms", r.PingRttMs)
			}
			t.Logf("over %s: open after %.0f ms (first relay candidates after %.0f / %.0f ms), ping RTT %.2f ms, getStats RTT %v s, %d bytes metered",
				transport, r.OpenMs, r.FirstCandidateMs["a"], r.FirstCandidateMs["b"], r.PingRttMs, deref(r.Pair.CurrentRoundTripTime), r.Relay.RelayedBytes)

			var status string
			if err := b.Eval(`document.getElementById("status").textContent`, &status); err != nil {
				t.Fatal(err)
			}
			if want := "connected over " + strings.ToUpper(transport); !strings.Contains(status, want) {
				t.Errorf("the page says %q, want %q", status, want)
			}
			shot, err := b.Screenshot()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if dir := os.Getenv("TURNKIT_SCREENSHOTS"); dir != "" {
				if err := os.WriteFile(filepath.Join(dir, "webapp-"+transport+".png"), shot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b.RequireNoErrors(t)

			// The page closed both connections: Chromium deletes its
			// allocations (a Refresh with lifetime 0).
			turntest.Eventually(t, "the call's allocations to end", func() bool {
				return app.kit.Relay().Stats().Allocations == 0
			})
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}
