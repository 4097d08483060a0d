package turnkit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/store"
)

// requestCount returns the Kit's count of requests to endpoint answered
// with code.
func requestCount(kit *turnkit.Kit, endpoint turnkit.Endpoint, code string) uint64 {
	for _, r := range kit.Stats().Requests {
		if r.Endpoint == endpoint && r.Code == code {
			return r.Count
		}
	}
	return 0
}

// TestStatsRequests sends native, exchange and vendor-shaped requests,
// good and bad, through Kit.Handler and checks that each is counted once
// under its endpoint with the status its client saw, and that paths
// outside the API are not counted.
func TestStatsRequests(t *testing.T) {
	tk := newTestKit(t)
	key := tk.app.Key
	type req struct {
		method, path, body, bearer string
		endpoint                   turnkit.Endpoint
	}
	want := map[string]uint64{} // "endpoint code" → count
	for _, r := range []req{
		{"POST", "/v1/credentials", `{"key": "` + key + `"}`, "", turnkit.EndpointNative},
		{"POST", "/v1/credentials", `{"key": "` + key + `"}`, "", turnkit.EndpointNative},
		{"POST", "/v1/credentials", `{"key": "tk_unknownunknownunknownunknownun"}`, "", turnkit.EndpointNative},
		{"GET", "/v1/credentials", "", "", turnkit.EndpointNative},
		{"POST", "/v1/credentials", strings.Repeat("x", 5000), "", turnkit.EndpointNative},
		{"POST", "/v1/credentials", `{}`, key, turnkit.EndpointBaton},
		{"POST", "/v1/credentials", `{}`, "tk_unknownunknownunknownunknownun", turnkit.EndpointBaton},
		{"POST", "/v1/exchange", `{"key": "` + key + `", "namespace": "n"}`, "", turnkit.EndpointExchange},
		{"POST", "/v1/exchange", `{"key": "` + key + `"}`, "", turnkit.EndpointExchange},
		{"POST", "/credentials/ice", `{}`, key, turnkit.EndpointTurnix},
		{"POST", "/credentials/ice", `{}`, "", turnkit.EndpointTurnix},
		{"POST", "/api/v1/credentials/ice", `{}`, key, turnkit.EndpointTurnix},
		{"GET", "/api/v1/turn/credentials", "", "", turnkit.EndpointMetered},
		{"GET", "/api/v1/turn/credentials?apiKey=nope", "", "", turnkit.EndpointMetered},
		{"DELETE", "/api/v1/turn/credential", "", "", turnkit.EndpointMetered},
	} {
		hr, err := http.NewRequest(r.method, tk.http.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.body != "" {
			hr.Header.Set("Content-Type", "application/json")
		}
		if r.bearer != "" {
			hr.Header.Set("Authorization", "Bearer "+r.bearer)
		}
		res, err := tk.http.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		want[fmt.Sprintf("%s %d", r.endpoint, res.StatusCode)]++
	}
	for _, path := range []string{"/", "/v2/credentials", "/metrics"} {
		res, err := tk.http.Client().Get(tk.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
	got := map[string]uint64{}
	for _, r := range tk.Stats().Requests {
		got[fmt.Sprintf("%s %s", r.Endpoint, r.Code)] += r.Count
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: counted %d, want %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			t.Errorf("%s: counted %d, want none", k, n)
		}
	}
	if want["native 200"] != 2 || want["native 401"] != 1 || want["native 405"] != 1 || want["native 413"] != 1 {
		t.Errorf("the native requests were answered %v", want)
	}
}

// TestCountRequests: a handler mounted on its own and wrapped counts
// under the endpoint given (EndpointOther for an unknown one), with the
// status it wrote, 200 when it wrote a body or nothing at all.
func TestCountRequests(t *testing.T) {
	tk := newTestKit(t)
	mux := http.NewServeMux()
	mux.Handle("/ice", tk.CountRequests(turnkit.EndpointTurnix, tk.TurnixHandler()))
	for path, h := range map[string]http.HandlerFunc{
		"/nothing": func(http.ResponseWriter, *http.Request) {},
		"/body":    func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") },
		"/teapot":  func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) },
		"/early": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		},
		"/flush": func(w http.ResponseWriter, _ *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush through the counter: %v", err)
			}
		},
	} {
		mux.Handle(path, tk.CountRequests("custom", h))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, path := range []string{"/ice", "/nothing", "/body", "/teapot", "/early", "/flush"} {
		res, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	for _, tc := range []struct {
		endpoint turnkit.Endpoint
		code     string
		want     uint64
	}{
		{turnkit.EndpointTurnix, "401", 1}, // no Bearer key
		{turnkit.EndpointOther, "200", 3},  // nothing, a body, a flush
		{turnkit.EndpointOther, "4xx", 1},  // 418
		{turnkit.EndpointOther, "2xx", 1},  // 202 after 103
		{turnkit.EndpointOther, "1xx", 0},
	} {
		if got := requestCount(tk.Kit, tc.endpoint, tc.code); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.endpoint, tc.code, got, tc.want)
		}
	}
}

// storeCalls returns how many calls of a store operation the Kit timed.
func storeCalls(kit *turnkit.Kit, op string) uint64 {
	for _, s := range kit.Stats().Store {
		if s.Op == op {
			return s.Latency.Count
		}
	}
	return 0
}

// TestStatsStoreAndCharges: a credential request under an enforced
// balance times the reserve's reads, a session through the relay times
// opening and closing it and charges its usage once, and a Sweep times
// the load report and the registry listing.
func TestStatsStoreAndCharges(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho, func(c *turnkitConfig) {
		c.Billing.Enforce = true
		c.Fleet.ReportInterval = -1
	})
	before := map[string]uint64{}
	for _, op := range turnkit.StoreOps() {
		before[op] = storeCalls(tk.Kit, op)
	}
	if _, err := tk.Ledger().TopUp(ctx, tk.app.App.ID, 10*turnkit.GB, "pay-1"); err != nil {
		t.Fatal(err)
	}
	cred := tk.credentials(`"expiry_ttl": 60`) // over 30 minutes: the usage history is read
	rc, err := tk.dialCred("udp", cred).allocate()
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, rc, turntest.Echo(t, echoIP), []byte("twelve bytes"))
	_ = rc.Close()
	eventually(t, "the final usage to be charged", func() bool { return tk.Stats().Charges.Applied == 1 })
	eventually(t, "the session to close", func() bool { return storeCalls(tk.Kit, "close_session") > before["close_session"] })
	if err := tk.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	st := tk.Stats()
	// The relay hands its usage to the Kit in batches (of one here).
	for _, op := range []string{"balance", "count_active_sessions", "usage_history", "open_session", "close_session",
		"apply_usage_batch", "report_relay_load", "list_relays"} {
		if n := storeCalls(tk.Kit, op) - before[op]; n < 1 {
			t.Errorf("store op %s: %d calls timed, want at least 1", op, n)
		}
	}
	if st.Charges.Duplicate != 0 || st.Charges.Failed != 0 {
		t.Errorf("charges %+v, want one applied", st.Charges)
	}
	if st.ChargeLatency.Count != 1 || st.ChargeLatency.Sum <= 0 || st.ChargeLatency.Sum > 10*time.Second {
		t.Errorf("charge latency %+v", st.ChargeLatency)
	}
	// The same delta again changes nothing and counts as a duplicate.
	entries, err := tk.Ledger().Entries(ctx, tk.app.App.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var usageRef string
	for _, e := range entries {
		if e.Kind == "usage" {
			usageRef = e.Ref
		}
	}
	rest := strings.TrimPrefix(usageRef, "usage:")
	i := strings.LastIndexByte(rest, ':')
	seq, err := strconv.ParseUint(rest[i+1:], 10, 64)
	if i < 0 || err != nil {
		t.Fatalf("usage entry ref %q", usageRef)
	}
	u := store.Usage{SessionID: rest[:i], Seq: seq, AppID: tk.app.App.ID, ToPeer: 12, ToClient: 12, At: time.Now()}
	if applied, err := tk.Ledger().Charge(ctx, u); err != nil || applied {
		t.Fatalf("charging the delta again: applied %v, %v", applied, err)
	}
	if st := tk.Stats(); st.Charges.Applied != 1 || st.Charges.Duplicate != 1 || st.ChargeLatency.Count != 2 {
		t.Errorf("charges %+v, latency count %d; want 1 applied, 1 duplicate, 2 calls", st.Charges, st.ChargeLatency.Count)
	}
	if !st.HasRelay || st.Relay.BytesToPeer != 12 || st.Relay.BytesToClient != 12 {
		t.Errorf("relay stats %+v", st.Relay)
	}
}
