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
	"github.com/turnkit/turnkit/internal/geotest"
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

// TestGatewayPinning: user A gets gateway credentials from Frankfurt and
// allocates on the Frankfurt relay; user B asks later from Virginia, nearer
// to the Virginia relay, and still lands in Frankfurt; after A's allocation
// closes, the next request from Virginia picks the best relay again.
func TestGatewayPinning(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	geo := geotest.BuildCityDB(t)
	clk := newClock()
	open := func(id, region string, lat, lon float64) *turnkit.Kit {
		return geoKit(t, db, geo, clk, id, region, lat, lon)
	}
	fra := open("fra", "eu-central", 50.11, 8.68)
	open("iad", "us-east", 38.95, -77.45)
	app, err := fra.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	frankfurt, virginia := netip.MustParseAddr("81.0.0.9"), netip.MustParseAddr("3.0.0.9")
	id, err := createGatewayWithKey(ctx, fra, app.Key, frankfurt)
	if err != nil {
		t.Fatal(err)
	}
	viaGateway := func(host netip.Addr) *turnkit.Credential {
		t.Helper()
		c, err := issueWithKey(ctx, fra, app.Key, turnkit.CredentialRequest{Gateway: id, HostIP: host})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := viaGateway(frankfurt)
	if a.RelayID != "fra" || a.TTL != turnkit.GatewayTTL {
		t.Fatalf("A: relay %s ttl %s, want fra and 3m", a.RelayID, a.TTL)
	}
	ra, err := turntest.Allocate(t, turntest.Dial(t, "udp", fra.Relay().UDPAddrs()[0].String(), nil, a.Username, a.Password, "turnkit"))
	if err != nil {
		t.Fatal(err)
	}
	turntest.Eventually(t, "A's session to record its gateway", func() bool {
		r, err := fra.Store().GatewayRelay(ctx, app.App.ID, gatewayTagOf(t, a.Username))
		return err == nil && r == "fra"
	})
	if b := viaGateway(virginia); b.RelayID != "fra" {
		t.Fatalf("B from Virginia: relay %s, want fra (pinned)", b.RelayID)
	}
	if p, _ := issueWithKey(ctx, fra, app.Key, turnkit.CredentialRequest{HostIP: virginia}); p.RelayID != "iad" {
		t.Fatalf("a regular credential from Virginia went to %s, want iad", p.RelayID)
	}
	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	turntest.Eventually(t, "A's session to end", func() bool {
		n, _ := fra.Store().CountActiveSessions(ctx, app.App.ID)
		return n == 0
	})
	if c := viaGateway(virginia); c.RelayID != "iad" {
		t.Fatalf("after A left: relay %s, want the best relay for Virginia, iad", c.RelayID)
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

// TestGatewayIDsRoundTrip creates many gateways: every ID decodes, whatever
// bytes its random nonce holds.
func TestGatewayIDsRoundTrip(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) { c.RateLimits = turnkit.RateLimits{PerKey: -1, PerApp: -1} })
	ctx := context.Background()
	for i := range 500 {
		id, err := createGatewayWithKey(ctx, tk.Kit, tk.app.Key, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := issueWithKey(ctx, tk.Kit, tk.app.Key, turnkit.CredentialRequest{Gateway: id}); err != nil {
			t.Fatalf("gateway %d %q: %v", i, id, err)
		}
	}
}
