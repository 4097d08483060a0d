package turnkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
)

// exchange posts to /v1/exchange and returns the status and the peers (or
// the detail).
func (tk *testKit) exchange(key, body string) (int, map[string]string) {
	tk.t.Helper()
	if key != "" {
		body = fmt.Sprintf(`{"key": %q, %s}`, key, body)
	}
	res, err := tk.http.Client().Post(tk.http.URL+"/v1/exchange", "application/json", strings.NewReader(body))
	if err != nil {
		tk.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]string{}
	if err := json.Unmarshal(raw, &out); err != nil {
		tk.t.Fatalf("exchange: status %d, body %q is not a JSON object of strings", res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func TestExchangePeers(t *testing.T) {
	tk := newTestKit(t)
	key := tk.app.Key
	pub := func(addr string) map[string]string {
		t.Helper()
		code, out := tk.exchange(key, fmt.Sprintf(`"namespace": "room-1", "my_transport_address": %q`, addr))
		if code != 200 {
			t.Fatalf("publish %s: %d %v", addr, code, out)
		}
		return out
	}
	if got := pub("203.0.113.1:4000"); len(got) != 0 {
		t.Fatalf("first peer sees %v, want nobody", got)
	}
	if got := pub("203.0.113.2:4000"); fmt.Sprint(got) != "map[peer_0:203.0.113.1:4000]" {
		t.Fatalf("second peer sees %v", got)
	}
	if got := pub("203.0.113.1:4000"); fmt.Sprint(got) != "map[peer_0:203.0.113.2:4000]" {
		t.Fatalf("first peer again sees %v", got)
	}
	got := pub("[2001:db8::3]:5000")
	if got["peer_0"] != "203.0.113.1:4000" || got["peer_1"] != "203.0.113.2:4000" || len(got) != 2 {
		t.Fatalf("third peer sees %v, want both in publication order", got)
	}
	// A reader that publishes nothing sees all three; another app sees none.
	if code, got := tk.exchange(key, `"namespace": "room-1"`); code != 200 || len(got) != 3 || got["peer_2"] != "[2001:db8::3]:5000" {
		t.Fatalf("reader: %d %v", code, got)
	}
	other, err := tk.CreateApp(context.Background(), turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	if code, got := tk.exchange(other.Key, `"namespace": "room-1"`); code != 200 || len(got) != 0 {
		t.Fatalf("another app: %d %v, want an empty namespace", code, got)
	}
}

func TestExchangeExpiry(t *testing.T) {
	tk := newTestKit(t)
	key := tk.app.Key
	tk.exchange(key, `"namespace": "r", "my_transport_address": "198.51.100.1:1"`)
	tk.exchange(key, `"namespace": "r", "my_transport_address": "198.51.100.2:2"`)
	tk.clock.Advance(9 * time.Minute)
	tk.exchange(key, `"namespace": "r", "my_transport_address": "198.51.100.2:2"`) // activity
	tk.clock.Advance(time.Minute)                                                  // 10 min after the first one's last activity
	_, got := tk.exchange(key, `"namespace": "r"`)
	if fmt.Sprint(got) != "map[peer_0:198.51.100.2:2]" {
		t.Fatalf("after 10 minutes: %v, want only the refreshed address", got)
	}
	tk.clock.Advance(8*time.Minute + 59*time.Second) // 9:59 after its last activity
	if _, got := tk.exchange(key, `"namespace": "r"`); len(got) != 1 {
		t.Fatalf("just before its expiry: %v", got)
	}
	tk.clock.Advance(time.Second)
	if _, got := tk.exchange(key, `"namespace": "r"`); len(got) != 0 {
		t.Fatalf("after its expiry: %v", got)
	}
}

func TestExchangeLimitsAndInput(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Exchange = turnkit.ExchangeConfig{MaxNamespaceLen: 16, MaxAddrsPerNamespace: 2, MaxNamespacesPerApp: 2}
	})
	key := tk.app.Key
	cases := []struct {
		name   string
		key    string
		body   string
		status int
		detail string
	}{
		{"namespace too long", key, `"namespace": "` + strings.Repeat("n", 17) + `"`, 400, "namespace"},
		{"missing namespace", key, `"my_transport_address": "1.2.3.4:5"`, 400, "namespace"},
		{"address without port", key, `"namespace": "a", "my_transport_address": "1.2.3.4"`, 400, "my_transport_address"},
		{"address port 0", key, `"namespace": "a", "my_transport_address": "1.2.3.4:0"`, 400, "my_transport_address"},
		{"address garbage", key, `"namespace": "a", "my_transport_address": "abc"`, 400, "my_transport_address"},
		{"address wrong type", key, `"namespace": "a", "my_transport_address": 5`, 400, "my_transport_address"},
		{"negative wait", key, `"namespace": "a", "wait": -1`, 400, "wait"},
		{"wait as string", key, `"namespace": "a", "wait": "5"`, 400, "wait"},
		{"unknown field", key, `"namespace": "a", "peer": 1`, 400, "unknown field"},
		{"unknown key", "tk_nosuchkeynosuchkeynosuchkeynosuc", `"namespace": "a"`, 401, "invalid API key"},
		{"no key", "", `{"namespace": "a"}`, 400, "key is required"},
	}
	for _, tc := range cases {
		code, out := tk.exchange(tc.key, tc.body)
		if code != tc.status || !strings.Contains(out["detail"], tc.detail) {
			t.Errorf("%s: %d %q, want %d mentioning %q", tc.name, code, out["detail"], tc.status, tc.detail)
		}
	}
	tk.exchange(key, `"namespace": "a", "my_transport_address": "1.1.1.1:1"`)
	tk.exchange(key, `"namespace": "a", "my_transport_address": "1.1.1.2:1"`)
	if code, out := tk.exchange(key, `"namespace": "a", "my_transport_address": "1.1.1.3:1"`); code != 429 || !strings.Contains(out["detail"], "addresses") {
		t.Errorf("third address: %d %v, want 429", code, out)
	}
	tk.exchange(key, `"namespace": "b", "my_transport_address": "1.1.1.1:1"`)
	if code, out := tk.exchange(key, `"namespace": "c", "my_transport_address": "1.1.1.1:1"`); code != 429 || !strings.Contains(out["detail"], "namespaces") {
		t.Errorf("third namespace: %d %v, want 429", code, out)
	}
	if err := tk.PauseApp(ctx, tk.app.App.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := tk.exchange(key, `"namespace": "a"`); code != 403 {
		t.Errorf("paused app: %d, want 403", code)
	}
	req, _ := http.NewRequest(http.MethodGet, tk.http.URL+"/v1/exchange", nil)
	res, err := tk.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("GET: %d, want 405", res.StatusCode)
	}
}

func TestExchangeLongPoll(t *testing.T) {
	tk := newTestKit(t)
	key := tk.app.Key
	type result struct {
		got     map[string]string
		elapsed time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		_, got := tk.exchange(key, `"namespace": "lp", "my_transport_address": "192.0.2.1:1", "wait": 10`)
		done <- result{got, time.Since(start)}
	}()
	// The poll is waiting: a second peer arrives and wakes it.
	eventually(t, "the first peer to be published", func() bool {
		_, got := tk.exchange(key, `"namespace": "lp"`)
		return len(got) == 1
	})
	tk.exchange(key, `"namespace": "lp", "my_transport_address": "192.0.2.2:2"`)
	select {
	case r := <-done:
		if fmt.Sprint(r.got) != "map[peer_0:192.0.2.2:2]" || r.elapsed > 5*time.Second {
			t.Fatalf("long poll returned %v after %s", r.got, r.elapsed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll did not return when a peer arrived")
	}
	// With nothing changing it returns at the end of its wait.
	start = time.Now()
	_, got := tk.exchange(key, `"namespace": "quiet", "wait": 0.2`)
	if len(got) != 0 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("quiet poll returned %v after %s, want nothing after the wait", got, time.Since(start))
	}
}
