package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
)

// TestQuickstartMetrics runs the quickstart, relays a transfer through
// its relay with pion's client to a UDP echo peer, scrapes /metrics and
// checks the relay's, the API's, the ledger's, the store's and the
// fleet's metrics with the values the transfer implies, the Go and process
// collectors, and that no address, username, credential, API key or
// admin token appears anywhere in the output.
func TestQuickstartMetrics(t *testing.T) {
	const echoIP = "127.0.0.3" // not the relay's address: allowing it opens nothing else
	o := options{httpAddr: "127.0.0.1:0", turnAddr: "127.0.0.1:0", dbPath: filepath.Join(t.TempDir(), "turnkit.db"),
		allowPeers: []string{echoIP}}
	out, addr, stop := start(t, o)
	defer stop()
	key := regexp.MustCompile(`(?m)^api key: (tk_[a-z2-7]{32})$`).FindStringSubmatch(out.String())
	token := regexp.MustCompile(`(?m)^admin token: (\S+)$`).FindStringSubmatch(out.String())
	if key == nil {
		t.Fatalf("no api key in the output:\n%s", out)
	}

	res, err := http.Post("http://"+addr+"/v1/credentials", "application/json", strings.NewReader(`{"key": "`+key[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var cred struct {
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
		URLs       []string `json:"urls"`
	}
	err = json.NewDecoder(res.Body).Decode(&cred)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("credentials: %d, %v", res.StatusCode, err)
	}
	res, err = http.Post("http://"+addr+"/v1/credentials", "application/json", strings.NewReader(`{"key": "tk_nosuchkeynosuchkeynosuchkeynosu"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	turnAddr := regexp.MustCompile(`^turn:(127\.0\.0\.1:\d+)\?transport=udp$`)
	var server string
	for _, u := range cred.URLs {
		if m := turnAddr.FindStringSubmatch(u); m != nil {
			server = m[1]
		}
	}
	if server == "" {
		t.Fatalf("no UDP TURN URL in %v", cred.URLs)
	}

	peer := turntest.Echo(t, echoIP)
	client := turntest.Dial(t, "udp", server, nil, cred.Username, cred.Credential, "turnkit")
	rc, err := turntest.Allocate(t, client)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	const packets, size = 8, 120
	msg, buf := bytes.Repeat([]byte("m"), size), make([]byte, 2048)
	for range packets {
		if _, err := rc.WriteTo(msg, peer); err != nil {
			t.Fatal(err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, _, err := rc.ReadFrom(buf); err != nil || n != size {
			t.Fatalf("echo: %d bytes, %v", n, err)
		}
	}

	m := scrapeMetrics(t, "http://"+addr+"/metrics")
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`turnkit_relay_allocations`, 1},
		{`turnkit_relay_bytes_total{direction="to_peer"}`, packets * size},
		{`turnkit_relay_bytes_total{direction="to_client"}`, packets * size},
		{`turnkit_relay_packets_total{direction="to_peer"}`, packets},
		{`turnkit_relay_packets_total{direction="to_client"}`, packets},
		{`turnkit_relay_packets_dropped_total{reason="no_permission"}`, 0},
		{`turnkit_relay_packets_dropped_total{reason="over_cap"}`, 0},
		{`turnkit_relay_packets_dropped_total{reason="peer_refused"}`, 0},
		{`turnkit_relay_allocations_refused_total{reason="auth"}`, 0},
		{`turnkit_relay_allocations_refused_total{reason="quota"}`, 0},
		{`turnkit_relay_unauth_replies_withheld_total{reason="amplification"}`, 0},
		{`turnkit_relay_tcp_connections_closed_total{reason="not_turn"}`, 0},
		{`turnkit_http_requests_total{code="200",endpoint="native"}`, 1},
		{`turnkit_http_requests_total{code="401",endpoint="native"}`, 1},
		{`turnkit_ledger_charges_total{result="failed"}`, 0},
		{`turnkit_events_dropped_total`, 0},
	} {
		got, ok := m.values[tc.series]
		if !ok {
			t.Errorf("no series %s in /metrics", tc.series)
		} else if got != tc.want {
			t.Errorf("%s = %v, want %v", tc.series, got, tc.want)
		}
	}
	for _, series := range []string{
		`turnkit_relay_unauth_replies_total`, // the client's first Allocate got its 401
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if m.values[series] <= 0 {
			t.Errorf("%s = %v, want > 0", series, m.values[series])
		}
	}

	// The allocation ends: its usage is charged; the first Sweep (within
	// ReportInterval, 5 s) reports the fleet's health.
	_ = rc.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m = scrapeMetrics(t, "http://"+addr+"/metrics")
		if m.values[`turnkit_ledger_charges_total{result="applied"}`] >= 1 && m.fleetHealthy() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no charge or no fleet health in /metrics within 15 s:\n%s", m.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := m.values[`turnkit_ledger_charge_duration_seconds_count`]; n < 1 || m.values[`turnkit_ledger_charge_duration_seconds_bucket{le="+Inf"}`] != n {
		t.Errorf("charge latency count %v, +Inf bucket %v", n, m.values[`turnkit_ledger_charge_duration_seconds_bucket{le="+Inf"}`])
	}
	if got := m.values[`turnkit_relay_allocations`]; got != 0 {
		t.Errorf("allocations after close = %v", got)
	}
	if got := m.values[`turnkit_relay_bytes_total{direction="to_peer"}`]; got != packets*size {
		t.Errorf("bytes to peer after close = %v, want %v", got, packets*size)
	}
	// The relay delivers a session's start before its usage: once charged,
	// the session's opening was timed.
	if got := m.values[`turnkit_store_operation_duration_seconds_count{op="open_session"}`]; got != 1 {
		t.Errorf("open_session calls = %v, want 1", got)
	}
	if got := m.values[`turnkit_store_operation_duration_seconds_count{op="report_relay_load"}`]; got < 1 {
		t.Errorf("report_relay_load calls = %v", got)
	}

	secrets := []string{key[1], cred.Username, cred.Credential, "demo_"}
	if token != nil {
		secrets = append(secrets, token[1])
	}
	for _, s := range secrets {
		if strings.Contains(m.raw, s) {
			t.Errorf("/metrics holds %q", s)
		}
	}
	if a := regexp.MustCompile(`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`).FindString(m.raw); a != "" {
		t.Errorf("/metrics holds an address %q", a)
	}
	labelName := regexp.MustCompile(`[{,]([a-zA-Z_][a-zA-Z0-9_]*)=`)
	for series := range m.values {
		for _, l := range labelName.FindAllStringSubmatch(series, -1) {
			switch strings.ToLower(l[1]) {
			case "app", "app_id", "user", "username", "session", "session_id", "key", "key_id", "addr", "address", "ip", "peer", "client":
				t.Errorf("/metrics has a label %q: %s", l[1], series)
			}
		}
	}
}

// metricsScrape is a parsed /metrics: each series as written (name and
// labels) and its value, and the raw text.
type metricsScrape struct {
	raw    string
	values map[string]float64
}

// fleetHealthy returns the number of healthy relays over every region.
func (m metricsScrape) fleetHealthy() float64 {
	var n float64
	for series, v := range m.values {
		if strings.HasPrefix(series, "turnkit_fleet_relays{") && strings.Contains(series, `state="healthy"`) {
			n += v
		}
	}
	return n
}

// scrapeMetrics gets url and parses the text format.
func scrapeMetrics(t *testing.T, url string) metricsScrape {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v\n%s", url, res.StatusCode, err, raw)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	m := metricsScrape{raw: string(raw), values: map[string]float64{}}
	for _, line := range strings.Split(m.raw, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("bad line %q", line)
		}
		m.values[line[:i]] = v
	}
	return m
}
