package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
)

// TestMatchOnOneRelay: two players of one match land on one relay,
// although the other relay is less loaded when the second joins, and relay
// data to each other through their relayed addresses.
func TestMatchOnOneRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- run(ctx, options{httpAddr: "127.0.0.1:0", relays: "127.0.0.1:0,127.0.0.1:0"}, &bytes.Buffer{}, slog.New(slog.DiscardHandler), ready)
	}()
	var api string
	select {
	case api = <-ready:
	case err := <-done:
		t.Fatalf("gameserver stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("gameserver did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gameserver: %v", err)
		}
	})
	post := func(path string, v any) {
		t.Helper()
		res, err := http.Post("http://"+api+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("POST %s: %d", path, res.StatusCode)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var match struct{ Match, Gateway string }
	post("/matches", &match)
	if !strings.HasPrefix(match.Gateway, "gw1.") {
		t.Fatalf("match %+v has no gateway", match)
	}
	join := func() (string, net.PacketConn) {
		t.Helper()
		var ticket joinResponse
		post("/matches/"+match.Match+"/players", &ticket)
		s := ticket.IceServers[0]
		var udp string
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=udp") {
				udp = strings.TrimSuffix(strings.TrimPrefix(u, "turn:"), "?transport=udp")
			}
		}
		c := turntest.Dial(t, "udp", udp, nil, s.Username, s.Credential, "turnkit")
		rc, err := turntest.Allocate(t, c)
		if err != nil {
			t.Fatalf("Allocate on %s: %v", ticket.Relay, err)
		}
		return ticket.Relay, rc
	}
	r1, p1 := join()
	r2, p2 := join()
	if r1 != r2 {
		t.Fatalf("the players of one match are on relays %s and %s", r1, r2)
	}
	// Each sends to the other's relayed address. A relay forwards only from
	// peers the receiving allocation holds a permission for, and pion's
	// client creates the permission on its first WriteTo: so each side
	// writes once first, then they exchange.
	for _, pair := range [][2]net.PacketConn{{p1, p2}, {p2, p1}} {
		if _, err := pair[0].WriteTo([]byte("hi"), pair[1].LocalAddr()); err != nil {
			t.Fatalf("first WriteTo: %v", err)
		}
	}
	exchange := func(from, to net.PacketConn, msg []byte) {
		t.Helper()
		buf := make([]byte, 1500)
		for range 50 {
			if _, err := from.WriteTo(msg, to.LocalAddr()); err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			_ = to.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if n, _, err := to.ReadFrom(buf); err == nil && bytes.Equal(buf[:n], msg) {
				return
			}
		}
		t.Fatalf("%q did not arrive from %s to %s", msg, from.LocalAddr(), to.LocalAddr())
	}
	exchange(p1, p2, []byte("hello from player 1"))
	exchange(p2, p1, []byte("hello from player 2"))
}
