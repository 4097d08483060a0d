package admin_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/store"
)

// sessionOut is the JSON of a live session.
type sessionOut struct {
	ID       string `json:"id"`
	AppID    string `json:"app_id"`
	RelayID  string `json:"relay_id"`
	Gateway  string `json:"gateway"`
	KeyID    string `json:"key_id"`
	Metadata struct {
		Room, Initiator, Receiver string
	} `json:"metadata"`
	Transport string `json:"transport"`
	StartedAt string `json:"started_at"`
	ToPeer    int64  `json:"to_peer"`
	ToClient  int64  `json:"to_client"`
	InProcess bool   `json:"in_process"`
}

// relayOut is the JSON of a relay.
type relayOut struct {
	ID          string  `json:"id"`
	Region      string  `json:"region"`
	Allocations int     `json:"allocations"`
	Capacity    int     `json:"capacity"`
	Bitrate     int64   `json:"bitrate"`
	Health      string  `json:"health"`
	Draining    bool    `json:"draining"`
	ReportedAt  *string `json:"reported_at"`
	InProcess   bool    `json:"in_process"`
}

// allocate issues a credential for the app's key with metadata and opens
// an allocation on the Kit's relay with pion's client.
func (e *env) allocate(key string, m turnkit.Metadata) (net.PacketConn, *turnkit.Credential) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.kit.Issuer().Authenticate(ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	cred, err := e.kit.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: c.AppID, KeyID: c.KeyID, Metadata: m})
	if err != nil {
		e.t.Fatal(err)
	}
	client := turntest.Dial(e.t, "udp", e.kit.Relay().UDPAddrs()[0].String(), nil, cred.Username, cred.Password, "turnkit")
	rc, err := turntest.Allocate(e.t, client)
	if err != nil {
		e.t.Fatal(err)
	}
	return rc, cred
}

// roundTrip sends msg to peer through the relayed conn and waits for the
// echo.
func roundTrip(t *testing.T, rc net.PacketConn, peer net.Addr, msg []byte) {
	t.Helper()
	if _, err := rc.WriteTo(msg, peer); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := rc.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], msg) {
		t.Fatalf("echo: %q, %v", buf[:n], err)
	}
}

// TestLiveSessions relays through the Kit's relay with pion's client and
// lists the session: attributed, with its metadata and the bytes relayed
// so far, and neither an address nor the TURN username in the answer.
func TestLiveSessions(t *testing.T) {
	e := newEnv(t, withRelay)
	_, key := e.createApp("a1", "")
	_, key2 := e.createApp("a2", "")
	peer := turntest.Echo(t, echoIP)
	rc, cred := e.allocate(key, turnkit.Metadata{Room: "room <b>1</b>", Initiator: "alice", Receiver: "bob"})
	rc2, cred2 := e.allocate(key2, turnkit.Metadata{})
	for range 5 {
		roundTrip(t, rc, peer, bytes.Repeat([]byte("x"), 100))
	}
	var list []sessionOut
	turntest.Eventually(t, "both sessions to be listed with their bytes", func() bool {
		p := getPage[sessionOut](t, e, "/admin/api/sessions", "sessions")
		list = p.Items
		return len(list) == 2 && (list[0].ToPeer == 500 || list[1].ToPeer == 500)
	})
	if list[0].ID > list[1].ID {
		t.Errorf("sessions not in ID order: %s, %s", list[0].ID, list[1].ID)
	}
	app := getPage[sessionOut](t, e, "/admin/api/apps/a1/sessions", "sessions").Items
	if len(app) != 1 {
		t.Fatalf("sessions of a1: %+v", app)
	}
	s := app[0]
	keys, _ := e.kit.Keys(context.Background(), "a1")
	if s.AppID != "a1" || s.KeyID != keys[0].ID || s.RelayID != e.kit.Relay().ID() || s.Transport != "udp" || !s.InProcess ||
		s.ToPeer != 500 || s.ToClient != 500 || s.Metadata.Room != "room <b>1</b>" || s.Metadata.Initiator != "alice" ||
		s.Metadata.Receiver != "bob" || s.StartedAt == "" {
		t.Fatalf("session %+v", s)
	}
	if byApp := getPage[sessionOut](t, e, "/admin/api/sessions?app=a2", "sessions").Items; len(byApp) != 1 || byApp[0].AppID != "a2" {
		t.Fatalf("sessions?app=a2: %+v", byApp)
	}
	all, pages := allPages[sessionOut](t, e, "/admin/api/sessions?limit=1", "sessions")
	if len(all) != 2 || pages != 2 {
		t.Fatalf("sessions by pages of 1: %d in %d pages", len(all), pages)
	}
	// Neither the username, nor an address of client, relay or peer.
	relayAddr := e.kit.Relay().UDPAddrs()[0].String()
	for _, path := range []string{"/admin/api/sessions", "/admin/api/apps/a1/sessions", "/admin/api/relays"} {
		body := e.get(path).must(t, http.StatusOK).body
		noneOf(t, path, body, cred.Username, cred2.Username, cred.Password, rc.LocalAddr().String(), rc2.LocalAddr().String(),
			peer.String(), relayAddr, "127.0.0.1", echoIP, key, key2)
	}

	// A session the store holds for another relay of the fleet is listed
	// as last charged.
	other := store.Session{ID: "zz-other", AppID: "a1", Username: "u", RelayID: "relay-far", StartedAt: time.Now(), ToPeer: 7, ToClient: 9}
	if err := e.kit.Store().OpenSession(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	app = getPage[sessionOut](t, e, "/admin/api/apps/a1/sessions", "sessions").Items
	if len(app) != 2 || app[1].ID != "zz-other" || app[1].InProcess || app[1].ToPeer != 7 || app[1].ToClient != 9 || app[1].RelayID != "relay-far" {
		t.Fatalf("sessions with one on another relay: %+v", app)
	}

	_ = rc.Close()
	turntest.Eventually(t, "the closed session to leave the list", func() bool {
		return len(getPage[sessionOut](t, e, "/admin/api/apps/a1/sessions", "sessions").Items) == 1
	})
	for name, path := range map[string]string{
		"empty app":      "/admin/api/sessions?app=",
		"app twice":      "/admin/api/sessions?app=a1&app=a2",
		"unknown param":  "/admin/api/sessions?relay=r1",
		"huge limit":     "/admin/api/sessions?limit=1000000",
		"foreign cursor": "/admin/api/apps/a1/sessions?after=" + cursorOf(t, e, "/admin/api/apps?limit=1", "apps"),
	} {
		if a := e.get(path); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, a.status)
		}
	}
	if a := e.get("/admin/api/sessions?app=zz"); a.status != http.StatusNotFound {
		t.Errorf("sessions of an unknown app: %d, want 404", a.status)
	}
}

// TestRelays lists the fleet with health from the age of each report,
// and drains and restores a relay.
func TestRelays(t *testing.T) {
	e := newEnv(t, withRelay)
	ctx := context.Background()
	now := e.clock.Now()
	for _, r := range []store.RelayRecord{
		{ID: "r-offline", Region: "eu", Capacity: 100, Instance: "i1", ReportedAt: now.Add(-20 * time.Second), Allocations: 3, Bitrate: 8000,
			URLs: []string{"turn:192.0.2.1:3478"}},
		{ID: "r-dead", Region: "us", Instance: "i2", ReportedAt: now.Add(-2 * time.Minute), URLs: []string{"turn:192.0.2.2:3478"}},
	} {
		if err := e.kit.Store().AnnounceRelay(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	relays, _ := allPages[relayOut](t, e, "/admin/api/relays?limit=1", "relays")
	if len(relays) != 3 {
		t.Fatalf("relays %+v", relays)
	}
	byID := map[string]relayOut{}
	for _, r := range relays {
		byID[r.ID] = r
	}
	self := byID[e.kit.Relay().ID()]
	if self.Health != "healthy" || !self.InProcess || self.Capacity == 0 || self.ReportedAt == nil {
		t.Errorf("the in-process relay %+v", self)
	}
	if r := byID["r-offline"]; r.Health != "offline" || r.InProcess || r.Allocations != 3 || r.Capacity != 100 || r.Bitrate != 8000 || r.Region != "eu" {
		t.Errorf("the offline relay %+v", r)
	}
	if r := byID["r-dead"]; r.Health != "dead" {
		t.Errorf("the dead relay %+v", r)
	}
	body := e.get("/admin/api/relays").must(t, http.StatusOK).body
	noneOf(t, "the relay list", body, "192.0.2.1", "192.0.2.2", "127.0.0.1", "i1", "i2")

	// Time passes without a report: the in-process relay goes offline, then dead.
	e.clock.Advance(16 * time.Second)
	if r := findRelay(t, e, e.kit.Relay().ID()); r.Health != "offline" {
		t.Errorf("16 s without a report: %s, want offline", r.Health)
	}
	e.clock.Advance(time.Minute)
	if r := findRelay(t, e, e.kit.Relay().ID()); r.Health != "dead" {
		t.Errorf("76 s without a report: %s, want dead", r.Health)
	}
	e.clock.Set(now)

	var r relayOut
	e.put("/admin/api/relays/r-offline/draining", `{"draining": true}`).must(t, http.StatusOK).decode(t, &r)
	if !r.Draining || r.ID != "r-offline" {
		t.Fatalf("drained relay %+v", r)
	}
	if recs, _ := e.kit.Store().ListRelays(ctx); !drained(recs, "r-offline") {
		t.Fatalf("the store does not hold the relay drained: %+v", recs)
	}
	e.put("/admin/api/relays/r-offline/draining", `{"draining": false}`).must(t, http.StatusOK).decode(t, &r)
	if r.Draining {
		t.Fatalf("restored relay %+v", r)
	}
	for name, body := range map[string]string{
		"no field": `{}`, "null": `{"draining": null}`, "string": `{"draining": "yes"}`, "number": `{"draining": 1}`,
		"extra": `{"draining": true, "force": true}`,
	} {
		if a := e.put("/admin/api/relays/r-offline/draining", body); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, a.status)
		}
	}
	if a := e.put("/admin/api/relays/nope/draining", `{"draining": true}`); a.status != http.StatusNotFound || !strings.Contains(a.detail(), "nope") {
		t.Errorf("unknown relay: %d %q, want 404 naming it", a.status, a.detail())
	}
	if a := e.send(request{method: "DELETE", path: "/admin/api/relays/r-offline/draining"}); a.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE draining: %d, want 405", a.status)
	}
}

func findRelay(t *testing.T, e *env, id string) relayOut {
	t.Helper()
	for _, r := range getPage[relayOut](t, e, "/admin/api/relays", "relays").Items {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("relay %s not listed", id)
	return relayOut{}
}

func drained(recs []store.RelayRecord, id string) bool {
	for _, r := range recs {
		if r.ID == id {
			return r.Draining
		}
	}
	return false
}
