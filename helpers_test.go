package turnkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// echoIP is the loopback address test peers listen on. It is not the
// relay's address, so allowing it does not open the relay's own host.
const echoIP = "127.0.0.3"

// clock is a settable time source shared by the Kit and its relay.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testKit is a Kit on a fresh SQLite file with a relay on loopback
// ephemeral ports, its HTTP API on httptest, and a demo app.
type testKit struct {
	*turnkit.Kit
	t     *testing.T
	dir   string
	http  *httptest.Server
	clock *clock
	app   *turnkit.CreatedApp
}

type kitOption func(*turnkit.Config)

type turnkitConfig = turnkit.Config

func allowEcho(c *turnkit.Config) { c.Relay.AllowPeers = []string{echoIP} }

func newTestKit(t *testing.T, opts ...kitOption) *testKit {
	t.Helper()
	dir := t.TempDir()
	tk := &testKit{t: t, dir: dir, clock: newClock()}
	tk.open(opts...)
	app, err := tk.CreateApp(context.Background(), turnkit.NewApp{Name: "test"})
	if err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	tk.app = app
	return tk
}

// open (re)opens the Kit on the test's SQLite file.
func (tk *testKit) open(opts ...kitOption) {
	tk.t.Helper()
	cfg := turnkit.Config{
		DBPath: filepath.Join(tk.dir, "turnkit.db"),
		Now:    tk.clock.Now,
		Relay: relay.Config{
			UDPAddrs: []string{"127.0.0.1:0"},
			TCPAddrs: []string{"127.0.0.1:0"},
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	kit, err := turnkit.Open(context.Background(), cfg)
	if err != nil {
		tk.t.Fatalf("Open: %v", err)
	}
	tk.Kit = kit // closed by tk.close, which can also close it early
	tk.http = httptest.NewServer(kit.Handler())
	tk.t.Cleanup(tk.close)
}

func (tk *testKit) close() {
	if tk.http != nil {
		tk.http.Close()
		tk.http = nil
	}
	if tk.Kit != nil {
		if err := tk.Kit.Close(); err != nil {
			tk.t.Errorf("Kit.Close: %v", err)
		}
		tk.Kit = nil
	}
}

// credResponse is the JSON shape of a successful POST /v1/credentials.
type credResponse struct {
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
	URLs       []string `json:"urls"`
	TTL        int64    `json:"ttl"`
	Region     string   `json:"region"`
	IceServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"iceServers"`
	Detail string `json:"detail"`
}

// post sends a raw body to POST /v1/credentials.
func (tk *testKit) post(body string) (int, credResponse) {
	tk.t.Helper()
	return tk.do(http.MethodPost, "/v1/credentials", strings.NewReader(body), nil)
}

func (tk *testKit) do(method, path string, body io.Reader, header http.Header) (int, credResponse) {
	tk.t.Helper()
	req, err := http.NewRequest(method, tk.http.URL+path, body)
	if err != nil {
		tk.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := tk.http.Client().Do(req)
	if err != nil {
		tk.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out credResponse
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			tk.t.Fatalf("%s %s: status %d, body is not JSON: %q", method, path, res.StatusCode, raw)
		}
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tk.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return res.StatusCode, out
}

// decodeJSON decodes a response body.
func decodeJSON(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

// credentials fetches credentials for the test app or fails the test.
func (tk *testKit) credentials(extra string) credResponse {
	tk.t.Helper()
	body, _ := json.Marshal(map[string]string{"key": tk.app.Key})
	if extra != "" {
		body = append(body[:len(body)-1], []byte(","+extra+"}")...)
	}
	status, res := tk.post(string(body))
	if status != http.StatusOK {
		tk.t.Fatalf("POST /v1/credentials: status %d, detail %q", status, res.Detail)
	}
	return res
}

// turnClient is a pion TURN client connected to the test relay.
type turnClient struct {
	*turn.Client
	t testing.TB
}

// dialTURN connects a pion client over "udp" or "tcp" with the credential.
func (tk *testKit) dialTURN(network, username, password string) *turnClient {
	tk.t.Helper()
	server := tk.Relay().UDPAddrs()[0].String()
	if network == "tcp" {
		server = tk.Relay().TCPAddrs()[0].String()
	}
	return &turnClient{turntest.Dial(tk.t, network, server, nil, username, password, "turnkit"), tk.t}
}

// dialCred connects a pion client with a credential response.
func (tk *testKit) dialCred(network string, c credResponse) *turnClient {
	tk.t.Helper()
	return tk.dialTURN(network, c.Username, c.Credential)
}

// allocate allocates with a bounded wait; the allocation closes with the
// test.
func (c *turnClient) allocate() (net.PacketConn, error) { return turntest.Allocate(c.t, c.Client) }

// udpSink is a UDP listener that records whether anything arrived.
type udpSink struct {
	pc  net.PacketConn
	got chan []byte
}

func newUDPSink(t *testing.T, addr string) *udpSink {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &udpSink{pc: pc, got: make(chan []byte, 16)}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				close(s.got)
				return
			}
			s.got <- bytes.Clone(buf[:n])
		}
	}()
	t.Cleanup(func() { _ = pc.Close() })
	return s
}

// expectNothing fails if the sink receives a datagram within d.
func (s *udpSink) expectNothing(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case b, ok := <-s.got:
		if ok {
			t.Fatalf("listener %s received %d bytes; the relay must not deliver there", s.pc.LocalAddr(), len(b))
		}
	case <-time.After(d):
	}
}

// roundTrip sends msg to peer through the relayed conn and waits for the
// echo.
func roundTrip(t *testing.T, rc net.PacketConn, peer net.Addr, msg []byte) {
	t.Helper()
	if _, err := rc.WriteTo(msg, peer); err != nil {
		t.Fatalf("relayed WriteTo %s: %v", peer, err)
	}
	buf := make([]byte, 2048)
	_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := rc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("relayed ReadFrom: %v", err)
	}
	if from.String() != peer.String() || !bytes.Equal(buf[:n], msg) {
		t.Fatalf("echo: got %q from %s, want %q from %s", buf[:n], from, msg, peer)
	}
}

// eventually polls cond until it holds or the bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	turntest.Eventually(t, what, cond)
}

// issueWithKey authenticates key and issues req for its app, as the HTTP
// handlers do (without their rate limits).
func issueWithKey(ctx context.Context, kit *turnkit.Kit, key string, req turnkit.CredentialRequest) (*turnkit.Credential, error) {
	c, err := kit.Issuer().Authenticate(ctx, key)
	if err != nil {
		return nil, err
	}
	req.AppID, req.KeyID = c.AppID, c.KeyID
	return kit.Issuer().Issue(ctx, &req)
}

// createGatewayWithKey authenticates key and creates a gateway for its app.
func createGatewayWithKey(ctx context.Context, kit *turnkit.Kit, key string, host netip.Addr) (string, error) {
	c, err := kit.Issuer().Authenticate(ctx, key)
	if err != nil {
		return "", err
	}
	return kit.Issuer().CreateGateway(ctx, &turnkit.GatewayRequest{AppID: c.AppID, KeyID: c.KeyID, HostIP: host})
}

// manualTimers makes timers that fire only when the test says, and tells
// the test of each one made.
type manualTimers struct{ made chan *manualTimer }

func newManualTimers() *manualTimers { return &manualTimers{made: make(chan *manualTimer, 64)} }

// New makes a timer of duration d; it is an ExchangeConfig.NewTimer.
func (m *manualTimers) New(d time.Duration) turnkit.Timer {
	mt := &manualTimer{D: d, c: make(chan time.Time, 1)}
	m.made <- mt
	return mt
}

// Next returns the next timer made, failing the test after 5 seconds.
func (m *manualTimers) Next(t *testing.T) *manualTimer {
	t.Helper()
	select {
	case mt := <-m.made:
		return mt
	case <-time.After(5 * time.Second):
		t.Fatal("no timer was made")
		return nil
	}
}

// manualTimer is a timer of duration D that fires on Fire.
type manualTimer struct {
	D time.Duration
	c chan time.Time
}

func (mt *manualTimer) C() <-chan time.Time { return mt.c }
func (mt *manualTimer) Stop() bool          { return true }

// Fire makes the timer's channel ready.
func (mt *manualTimer) Fire() { mt.c <- time.Now() }

// openKit opens a Kit with cfg and closes it when the test ends: the one
// way the tests make a Kit.
func openKit(tb testing.TB, cfg turnkit.Config) *turnkit.Kit {
	tb.Helper()
	kit, err := turnkit.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := kit.Close(); err != nil {
			tb.Errorf("Kit.Close: %v", err)
		}
	})
	return kit
}
