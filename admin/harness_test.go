package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/leakcheck"
	"github.com/turnkit/turnkit/relay"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// adminToken is the admin token of the test Kits.
const adminToken = "tka_test-admin-token-0123456789"

// echoIP is the loopback address test peers listen on: not the relay's,
// so allowing it does not open the relay's own host.
const echoIP = "127.0.0.3"

// clock is a settable time source shared by the Kit and its relay.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a Kit on a fresh SQLite file, with its admin handler on an
// httptest server.
type env struct {
	t     *testing.T
	kit   *turnkit.Kit
	srv   *httptest.Server
	clock *clock
}

// noRelay runs the Kit without an in-process relay.
func noRelay(c *turnkit.Config) { c.NoRelay = true }

// withRelay runs an in-process relay on loopback that may relay to
// echoIP, metering every 20 ms.
func withRelay(c *turnkit.Config) {
	c.Relay = relay.Config{
		UDPAddrs: []string{"127.0.0.1:0"}, TCPAddrs: []string{"127.0.0.1:0"},
		AllowPeers: []string{echoIP}, UsageInterval: 20 * time.Millisecond,
	}
}

func newEnv(t *testing.T, opts ...func(*turnkit.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now()}}
	cfg := turnkit.Config{
		DBPath:     filepath.Join(t.TempDir(), "turnkit.db"),
		AdminToken: adminToken,
		Now:        e.clock.Now,
		Fleet:      turnkit.FleetConfig{ReportInterval: -1}, // the test calls Sweep
	}
	for _, o := range opts {
		o(&cfg)
	}
	kit, err := turnkit.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	e.kit = kit
	e.srv = httptest.NewServer(kit.AdminHandler())
	t.Cleanup(func() {
		e.srv.Close()
		if err := kit.Close(); err != nil {
			t.Errorf("Kit.Close: %v", err)
		}
	})
	return e
}

// answer is an HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// detail returns the answer's {"detail"}.
func (a answer) detail() string {
	var d struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(a.body, &d)
	return d.Detail
}

// decode decodes the body into v, failing the test if it is not JSON.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v\n%s", a.status, err, a.body)
	}
}

// request is one request to the admin handler; a zero token field sends
// the right token, "-" none.
type request struct {
	method, path, body string
	token              string
	header             http.Header
	ctype              string // defaults to application/json when there is a body
}

func (e *env) send(r request) answer {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	switch r.token {
	case "":
		req.Header.Set("Authorization", "Bearer "+adminToken)
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	switch {
	case r.ctype != "":
		req.Header.Set("Content-Type", r.ctype)
	case r.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header, body: raw}
	if c := res.Header.Get("Set-Cookie"); c != "" {
		e.t.Errorf("%s %s set a cookie: %q", r.method, r.path, c)
	}
	if strings.HasPrefix(r.path, "/admin/api/") || res.StatusCode >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			e.t.Errorf("%s %s: Content-Type %q, want application/json", r.method, r.path, ct)
		}
		if !json.Valid(raw) {
			e.t.Errorf("%s %s: answer %d is not JSON: %q", r.method, r.path, res.StatusCode, raw)
		}
	}
	if res.StatusCode >= 400 && a.detail() == "" {
		e.t.Errorf("%s %s: error %d without a detail: %s", r.method, r.path, res.StatusCode, raw)
	}
	return a
}

func (e *env) get(path string) answer {
	e.t.Helper()
	return e.send(request{method: "GET", path: path})
}

func (e *env) post(path, body string) answer {
	e.t.Helper()
	return e.send(request{method: "POST", path: path, body: body})
}

func (e *env) put(path, body string) answer {
	e.t.Helper()
	return e.send(request{method: "PUT", path: path, body: body})
}

// must fails the test unless the answer has the status.
func (a answer) must(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

// createApp creates an app through the API and returns its ID and key.
func (e *env) createApp(id, name string) (string, string) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"id": id, "name": name})
	var out struct {
		App struct {
			ID string `json:"id"`
		} `json:"app"`
		Key struct {
			Key string `json:"key"`
		} `json:"key"`
	}
	e.post("/admin/api/apps", string(body)).must(e.t, http.StatusCreated).decode(e.t, &out)
	return out.App.ID, out.Key.Key
}

// page is a page of a list.
type page[T any] struct {
	Items []T
	Next  *string
}

// getPage reads one page of the list name at path.
func getPage[T any](t *testing.T, e *env, path, name string) page[T] {
	t.Helper()
	var raw map[string]json.RawMessage
	e.get(path).must(t, http.StatusOK).decode(t, &raw)
	var p page[T]
	if err := json.Unmarshal(raw[name], &p.Items); err != nil || p.Items == nil {
		t.Fatalf("%s: %q is not a list: %s", path, name, raw[name])
	}
	if n, ok := raw["next"]; !ok {
		t.Fatalf("%s: no \"next\"", path)
	} else if err := json.Unmarshal(n, &p.Next); err != nil {
		t.Fatalf("%s: next %s", path, n)
	}
	return p
}

// allPages follows next from path (which has a query) to the end.
func allPages[T any](t *testing.T, e *env, path, name string) (items []T, pages int) {
	t.Helper()
	next := ""
	for pages = 1; pages < 100; pages++ {
		p := path
		if next != "" {
			p += "&after=" + next
		}
		pg := getPage[T](t, e, p, name)
		items = append(items, pg.Items...)
		if pg.Next == nil {
			return items, pages
		}
		next = *pg.Next
	}
	t.Fatalf("%s: more than 100 pages", path)
	return nil, 0
}

// noneOf fails the test if body holds any of the secrets.
func noneOf(t *testing.T, what string, body []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && bytes.Contains(body, []byte(s)) {
			t.Errorf("%s holds %q: %s", what, s, body)
		}
	}
}

// newServer serves a Kit's admin handler on httptest and returns its URL.
func newServer(t *testing.T, kit *turnkit.Kit) string {
	t.Helper()
	srv := httptest.NewServer(kit.AdminHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}
