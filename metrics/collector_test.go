package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/metrics"
	"github.com/turnkit/turnkit/relay"
)

// TestCollectorRelayedSession runs a session through the Kit's relay with
// pion's client to a UDP echo peer, with credentials from the HTTP API,
// and checks what a scrape of the collector says of it: exact byte and
// packet counts each way, the live allocation, the requests by endpoint
// and code, the charges, the store timings, the fleet's health and the
// events; and that no address, username, key or app ID appears.
func TestCollectorRelayedSession(t *testing.T) {
	var (
		mu     sync.Mutex
		events []turnkit.Event
	)
	kit := openKit(t, func(c *turnkit.Config) {
		c.OnEvent = func(_ context.Context, ev turnkit.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
	})
	ctx := context.Background()
	app, err := kit.CreateApp(ctx, turnkit.NewApp{Name: "metrics"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry() // checks Collect against Describe
	reg.MustRegister(metrics.NewCollector(kit))
	mux := http.NewServeMux()
	mux.Handle("/", kit.Handler())
	mux.Handle("/metrics", metricsHandler(reg))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	post := func(path, body string) (*http.Response, []byte) {
		res, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res, raw
	}
	res, raw := post("/v1/credentials", `{"key": "`+app.Key+`"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("credentials: %d %s", res.StatusCode, raw)
	}
	var cred struct{ Username, Credential string }
	if err := json.Unmarshal(raw, &cred); err != nil {
		t.Fatal(err)
	}
	if res, _ := post("/v1/credentials", `{"key": "tk_wrongwrongwrongwrongwrongwrongwr"}`); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown key: %d", res.StatusCode)
	}
	if res, _ := post("/v1/credentials", `{"key": 1}`); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad body: %d", res.StatusCode)
	}
	if res, _ := post("/v1/exchange", `{"key": "`+app.Key+`", "namespace": "room"}`); res.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d", res.StatusCode)
	}

	peer := turntest.Echo(t, echoIP)
	client := turntest.Dial(t, "udp", kit.Relay().UDPAddrs()[0].String(), nil, cred.Username, cred.Credential, kit.Relay().Realm())
	rc, err := turntest.Allocate(t, client)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	const packets, size = 5, 100
	msg := bytes.Repeat([]byte{'x'}, size)
	buf := make([]byte, 2048)
	for range packets {
		if _, err := rc.WriteTo(msg, peer); err != nil {
			t.Fatal(err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, _, err := rc.ReadFrom(buf); err != nil || n != size {
			t.Fatalf("echo: %d bytes, %v", n, err)
		}
	}
	turntest.Eventually(t, "the session's start to be recorded", func() bool {
		return storeCalls(kit, "open_session") == 1
	})
	if err := kit.Sweep(ctx); err != nil {
		t.Fatal(err)
	}

	s := get(t, srv.URL+"/metrics")
	expect(t, "allocations", s.must(t, "turnkit_relay_allocations"), 1)
	expect(t, "bytes to peer", s.must(t, "turnkit_relay_bytes_total", "direction", "to_peer"), packets*size)
	expect(t, "bytes to client", s.must(t, "turnkit_relay_bytes_total", "direction", "to_client"), packets*size)
	expect(t, "packets to peer", s.must(t, "turnkit_relay_packets_total", "direction", "to_peer"), packets)
	expect(t, "packets to client", s.must(t, "turnkit_relay_packets_total", "direction", "to_client"), packets)
	for _, reason := range []string{"peer_refused", "over_cap", "no_permission"} {
		expect(t, "dropped "+reason, s.must(t, "turnkit_relay_packets_dropped_total", "reason", reason), 0)
	}
	expect(t, "refused auth", s.must(t, "turnkit_relay_allocations_refused_total", "reason", "auth"), 0)
	expect(t, "refused quota", s.must(t, "turnkit_relay_allocations_refused_total", "reason", "quota"), 0)
	if v := s.must(t, "turnkit_relay_unauth_replies_total"); v < 1 {
		t.Errorf("unauthenticated replies = %v; the client's first Allocate got a 401", v)
	}
	if v := s.must(t, "turnkit_relay_unauth_reply_bytes_total"); v < 20 {
		t.Errorf("unauthenticated reply bytes = %v", v)
	}
	for _, reason := range []string{"amplification", "rate"} {
		expect(t, "withheld "+reason, s.must(t, "turnkit_relay_unauth_replies_withheld_total", "reason", reason), 0)
	}
	for _, reason := range []string{"refused", "evicted", "timed_out", "not_turn"} {
		expect(t, "tcp "+reason, s.must(t, "turnkit_relay_tcp_connections_closed_total", "reason", reason), 0)
	}
	expect(t, "native 200", s.must(t, "turnkit_http_requests_total", "endpoint", "native", "code", "200"), 1)
	expect(t, "native 401", s.must(t, "turnkit_http_requests_total", "endpoint", "native", "code", "401"), 1)
	expect(t, "native 400", s.must(t, "turnkit_http_requests_total", "endpoint", "native", "code", "400"), 1)
	expect(t, "exchange 200", s.must(t, "turnkit_http_requests_total", "endpoint", "exchange", "code", "200"), 1)
	expect(t, "healthy relays", s.must(t, "turnkit_fleet_relays", "region", kit.Relay().Region(), "state", "healthy"), 1)
	expect(t, "offline relays", s.must(t, "turnkit_fleet_relays", "region", kit.Relay().Region(), "state", "offline"), 0)
	expect(t, "open_session calls", s.must(t, "turnkit_store_operation_duration_seconds_count", "op", "open_session"), 1)
	expect(t, "report_relay_load calls", s.must(t, "turnkit_store_operation_duration_seconds_count", "op", "report_relay_load"), 1)
	if v := s.must(t, "turnkit_store_operation_duration_seconds_bucket", "op", "open_session", "le", "+Inf"); v != 1 {
		t.Errorf("open_session +Inf bucket = %v, want 1", v)
	}
	if got := s.labelValues("turnkit_store_operation_duration_seconds_count", "op"); len(got) != len(turnkit.StoreOps()) {
		t.Errorf("store ops in the scrape: %v, want %v", got, turnkit.StoreOps())
	}

	// The allocation ends: its final delta is charged exactly once.
	_ = rc.Close()
	turntest.Eventually(t, "the final usage to be charged", func() bool { return kit.Stats().Charges.Applied >= 1 })
	turntest.Eventually(t, "the session's end to be told", func() bool { return kit.Stats().EventsDelivered >= 2 })
	s = get(t, srv.URL+"/metrics")
	expect(t, "allocations after close", s.must(t, "turnkit_relay_allocations"), 0)
	expect(t, "bytes to peer after close", s.must(t, "turnkit_relay_bytes_total", "direction", "to_peer"), packets*size)
	applied := s.must(t, "turnkit_ledger_charges_total", "result", "applied")
	if applied < 1 {
		t.Errorf("applied charges = %v", applied)
	}
	expect(t, "failed charges", s.must(t, "turnkit_ledger_charges_total", "result", "failed"), 0)
	expect(t, "charge latency count", s.must(t, "turnkit_ledger_charge_duration_seconds_count"), applied)
	if v := s.must(t, "turnkit_ledger_charge_duration_seconds_sum"); v <= 0 || v > 10 {
		t.Errorf("charge latency sum = %v s", v)
	}
	expect(t, "events dropped", s.must(t, "turnkit_events_dropped_total"), 0)
	if v := s.must(t, "turnkit_events_delivered_total"); v < 2 {
		t.Errorf("events delivered = %v, want the session's start and end", v)
	}
	b, err := kit.Ledger().Balance(ctx, app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total() != -2*packets*size {
		t.Errorf("balance %d, want -%d: the session's bytes charged once", b.Total(), 2*packets*size)
	}

	checkPrivate(t, s.raw, app.Key, cred.Username, cred.Credential, app.App.ID, app.KeyID, peer.String())
	mu.Lock()
	defer mu.Unlock()
	if len(events) < 2 || events[0].Kind != turnkit.EventSessionStarted || events[1].Kind != turnkit.EventSessionEnded {
		t.Errorf("events %+v, want the session's start and end", events)
	}
}

// ipv4 matches a dotted-quad address anywhere.
var ipv4 = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// checkPrivate fails the test if the scrape holds an IP address, or any of
// the secrets and identifiers given.
func checkPrivate(t *testing.T, out string, secrets ...string) {
	t.Helper()
	if m := ipv4.FindString(out); m != "" {
		t.Errorf("the scrape holds an address %q", m)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the scrape holds %q", s)
		}
	}
	for _, label := range []string{"app=", "app_id=", "user=", "username=", "session=", "key=", "addr", "ip="} {
		if strings.Contains(out, label) {
			t.Errorf("the scrape has a label %q", label)
		}
	}
}

// TestCollectorWithoutRelay: a Kit that only issues exports its own
// metrics and none of the relay's, and the scrape is consistent.
func TestCollectorWithoutRelay(t *testing.T) {
	kit := openKit(t, func(c *turnkit.Config) { c.NoRelay = true })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(kit))
	srv := httptest.NewServer(metricsHandler(reg))
	t.Cleanup(srv.Close)
	s := get(t, srv.URL)
	if _, ok := s.get("turnkit_relay_allocations"); ok {
		t.Error("a Kit without relay exports relay metrics")
	}
	expect(t, "applied charges", s.must(t, "turnkit_ledger_charges_total", "result", "applied"), 0)
	expect(t, "events dropped", s.must(t, "turnkit_events_dropped_total"), 0)
	if _, ok := s.get("turnkit_fleet_relays"); ok {
		t.Error("fleet health before the first sweep")
	}
}

// snapshot is a Source that returns a fixed Stats.
type snapshot turnkit.Stats

func (s snapshot) Stats() turnkit.Stats { return turnkit.Stats(s) }

// TestCollectorHistogram checks the conversion of a snapshot's histogram:
// cumulative buckets in seconds, count and sum.
func TestCollectorHistogram(t *testing.T) {
	bounds := turnkit.LatencyBounds()
	counts := make([]uint64, len(bounds)+1)
	counts[0], counts[3], counts[len(counts)-1] = 2, 1, 4 // ≤100µs, ≤1ms, >5s
	h := turnkit.Histogram{Bounds: bounds, Counts: counts, Count: 7, Sum: 21 * time.Second}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(snapshot{ChargeLatency: h}))
	srv := httptest.NewServer(metricsHandler(reg))
	t.Cleanup(srv.Close)
	s := get(t, srv.URL)
	for _, tc := range []struct {
		le   string
		want float64
	}{{"0.0001", 2}, {"0.00025", 2}, {"0.001", 3}, {"5", 3}, {"+Inf", 7}} {
		expect(t, "bucket le="+tc.le, s.must(t, "turnkit_ledger_charge_duration_seconds_bucket", "le", tc.le), tc.want)
	}
	expect(t, "count", s.must(t, "turnkit_ledger_charge_duration_seconds_count"), 7)
	expect(t, "sum", s.must(t, "turnkit_ledger_charge_duration_seconds_sum"), 21)
}

// TestCollectorBadLabel: a region that is not UTF-8 fails the scrape with
// an error instead of panicking the host.
func TestCollectorBadLabel(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(snapshot{Fleet: []turnkit.RegionHealth{{Region: "eu\xff", Healthy: 1}}}))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("Gather: %v, want an error about the label", err)
	}
}

// TestCollectorFleetAndRequests: the fleet's health by region and state
// and the request counts by endpoint and code come through as labelled.
func TestCollectorFleetAndRequests(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(snapshot{
		Fleet: []turnkit.RegionHealth{{Region: "eu", Healthy: 2, Offline: 1}, {Region: "us", Draining: 1, Full: 3}},
		Requests: []turnkit.RequestCount{
			{Endpoint: turnkit.EndpointTurnix, Code: "429", Count: 4},
			{Endpoint: turnkit.EndpointMetered, Code: "5xx", Count: 1},
		},
		Relay:    relay.Stats{Allocations: 3, OverCap: 9},
		HasRelay: true,
	}))
	srv := httptest.NewServer(metricsHandler(reg))
	t.Cleanup(srv.Close)
	s := get(t, srv.URL)
	for _, tc := range []struct {
		region, state string
		want          float64
	}{{"eu", "healthy", 2}, {"eu", "offline", 1}, {"eu", "draining", 0}, {"us", "draining", 1}, {"us", "full", 3}, {"us", "healthy", 0}} {
		expect(t, tc.region+" "+tc.state, s.must(t, "turnkit_fleet_relays", "region", tc.region, "state", tc.state), tc.want)
	}
	expect(t, "turnix 429", s.must(t, "turnkit_http_requests_total", "endpoint", "turnix", "code", "429"), 4)
	expect(t, "metered 5xx", s.must(t, "turnkit_http_requests_total", "endpoint", "metered", "code", "5xx"), 1)
	expect(t, "allocations", s.must(t, "turnkit_relay_allocations"), 3)
	expect(t, "over cap", s.must(t, "turnkit_relay_packets_dropped_total", "reason", "over_cap"), 9)
}

// storeCalls returns how many calls of the store operation op the Kit
// timed.
func storeCalls(kit *turnkit.Kit, op string) uint64 {
	for _, s := range kit.Stats().Store {
		if s.Op == op {
			return s.Latency.Count
		}
	}
	return 0
}
