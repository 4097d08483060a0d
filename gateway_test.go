package turnkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
)

// postKit posts a body to a Kit's handler and decodes the JSON answer.
func postKit(t *testing.T, kit *turnkit.Kit, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	kit.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/credentials", strings.NewReader(body)))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	return rec.Code, out
}

func TestGatewayIDs(t *testing.T) {
	tk := newTestKit(t)
	key := tk.app.Key
	code, out := postKit(t, tk.Kit, fmt.Sprintf(`{"key": %q, "expiry_ttl": "Gateway"}`, key))
	id, _ := out["gateway"].(string)
	if code != 200 || !strings.HasPrefix(id, "gw1.") {
		t.Fatalf("create: %d %v", code, out)
	}
	code, out = postKit(t, tk.Kit, fmt.Sprintf(`{"key": %q, "gateway": %q}`, key, id))
	if code != 200 || out["ttl"] != float64(180) || out["username"] == "" {
		t.Fatalf("gateway credential: %d %v, want ttl 180", code, out)
	}

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	other, err := tk.CreateApp(context.Background(), turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, body string
		status     int
	}{
		{"tampered content", fmt.Sprintf(`{"key": %q, "gateway": %q}`, key, flip(id, 6)), 400},
		{"tampered signature", fmt.Sprintf(`{"key": %q, "gateway": %q}`, key, flip(id, len(id)-3)), 400},
		{"truncated", fmt.Sprintf(`{"key": %q, "gateway": %q}`, key, id[:len(id)-4]), 400},
		{"not an ID", fmt.Sprintf(`{"key": %q, "gateway": "abc"}`, key), 400},
		{"prefix only", fmt.Sprintf(`{"key": %q, "gateway": "gw1."}`, key), 400},
		{"empty", fmt.Sprintf(`{"key": %q, "gateway": ""}`, key), 400},
		{"huge", fmt.Sprintf(`{"key": %q, "gateway": %q}`, key, "gw1."+strings.Repeat("A", 1000)), 400},
		{"with expiry_ttl", fmt.Sprintf(`{"key": %q, "gateway": %q, "expiry_ttl": 5}`, key, id), 400},
		{"create with a gateway", fmt.Sprintf(`{"key": %q, "gateway": %q, "expiry_ttl": "Gateway"}`, key, id), 400},
		{"another app's gateway", fmt.Sprintf(`{"key": %q, "gateway": %q}`, other.Key, id), 403},
		{"unknown key", fmt.Sprintf(`{"key": "tk_x", "gateway": %q}`, id), 401},
	}
	for _, tc := range cases {
		if code, out := postKit(t, tk.Kit, tc.body); code != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.status)
		}
	}
}

// TestGatewayPinning: A gets gateway credentials and allocates on relay
// r-a; B asks later, when r-b is less loaded, and still lands on r-a; after
// A's allocation closes, the next request picks the best relay again.
func TestGatewayPinning(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	clk := newClock()
	ka := fleetKit(t, db, clk, "r-a", "eu")
	fleetKit(t, db, clk, "r-b", "us")
	app, err := ka.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := ka.Issuer().CreateGateway(ctx, app.Key, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	viaGateway := func() *turnkit.Credential {
		t.Helper()
		c, err := ka.Issuer().Issue(ctx, &turnkit.CredentialRequest{Key: app.Key, Gateway: id})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	load := func(want map[string]int) {
		t.Helper()
		turntest.Eventually(t, fmt.Sprintf("relay loads %v", want), func() bool {
			rs, _ := ka.Store().ListRelays(ctx)
			for _, r := range rs {
				if r.Allocations != want[r.ID] {
					return false
				}
			}
			return true
		})
	}
	a := viaGateway()
	if a.RelayID != "r-a" || a.TTL != turnkit.GatewayTTL {
		t.Fatalf("A: relay %s ttl %s, want r-a (idle tie) and 3m", a.RelayID, a.TTL)
	}
	ca := turntest.Dial(t, "udp", ka.Relay().UDPAddrs()[0].String(), nil, a.Username, a.Password, "turnkit")
	ra, err := turntest.Allocate(t, ca)
	if err != nil {
		t.Fatal(err)
	}
	// A plain session on r-a too, so r-a stays the busier relay.
	plain, err := ka.Issuer().Issue(ctx, &turnkit.CredentialRequest{Key: app.Key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := turntest.Allocate(t, turntest.Dial(t, "udp", ka.Relay().UDPAddrs()[0].String(), nil, plain.Username, plain.Password, "turnkit")); err != nil {
		t.Fatal(err)
	}
	load(map[string]int{"r-a": 2, "r-b": 0})
	turntest.Eventually(t, "A's session to record its gateway", func() bool {
		r, err := ka.Store().GatewayRelay(ctx, app.App.ID, gatewayTagOf(t, a.Username))
		return err == nil && r == "r-a"
	})

	if b := viaGateway(); b.RelayID != "r-a" {
		t.Fatalf("B: relay %s, want r-a (pinned, although r-b is idle)", b.RelayID)
	}
	if p, _ := ka.Issuer().Issue(ctx, &turnkit.CredentialRequest{Key: app.Key}); p.RelayID != "r-b" {
		t.Fatalf("a regular credential went to %s, want the idle r-b", p.RelayID)
	}

	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	load(map[string]int{"r-a": 1, "r-b": 0})
	turntest.Eventually(t, "A's session to end", func() bool {
		n, _ := ka.Store().CountActiveSessions(ctx, app.App.ID)
		return n == 1
	})
	if c := viaGateway(); c.RelayID != "r-b" {
		t.Fatalf("after A left: relay %s, want the best relay r-b", c.RelayID)
	}
}

// gatewayTagOf returns the gateway tag a username's nonce carries: "g"
// and 20 hex digits after the key ID's dot.
func gatewayTagOf(t *testing.T, username string) string {
	t.Helper()
	i := strings.LastIndexByte(username, '.')
	if i < 0 || len(username) < i+22 || username[i+1] != 'g' {
		t.Fatalf("username %q carries no gateway tag", username)
	}
	return username[i+2 : i+22]
}
