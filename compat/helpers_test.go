package compat_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/leakcheck"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// TestMain fails the package if a test leaves Kit, relay or pion
// goroutines running.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// echoIP is the loopback address test peers listen on; the test relays
// allow it as a peer.
const echoIP = "127.0.0.3"

// clock is a settable time source for the Kit and its relay.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// env is a real Kit on a fresh SQLite file, its relay on loopback
// ephemeral ports, its whole HTTP API on httptest, and an app.
type env struct {
	t     *testing.T
	kit   *turnkit.Kit
	srv   *httptest.Server
	app   *turnkit.CreatedApp
	clock *clock
	roots *x509.CertPool // trusts the relay's TLS certificate, when it has one
}

type option func(*turnkit.Config)

// withTLS gives the relay a TURN-over-TLS listener with a certificate for
// 127.0.0.1 made for the test.
func withTLS(e *env) option {
	return func(c *turnkit.Config) {
		cert, pool := selfSigned(e.t)
		e.roots = pool
		c.Relay.TLSAddrs = []string{"127.0.0.1:0"}
		c.Relay.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
}

// inRegion puts the in-process relay in a region.
func inRegion(region string) option { return func(c *turnkit.Config) { c.Relay.Region = region } }

// withRelays adds relays outside the process (never dialled: they only
// give the selector other regions to choose).
func withRelays(rs ...turnkit.RelayEndpoint) option {
	return func(c *turnkit.Config) { c.Relays = append(c.Relays, rs...) }
}

// otherRelay is a relay outside the process in a region, on an address of
// TEST-NET-1.
func otherRelay(id, region, ip string) turnkit.RelayEndpoint {
	return turnkit.RelayEndpoint{ID: id, Region: region, URLs: []string{
		"stun:" + ip + ":3478", "turn:" + ip + ":3478?transport=udp", "turn:" + ip + ":3478?transport=tcp",
	}}
}

// otherTLSRelay is otherRelay with TURN over TLS on 443.
func otherTLSRelay(id, region, ip string) turnkit.RelayEndpoint {
	r := otherRelay(id, region, ip)
	r.URLs = append(r.URLs, "turns:"+ip+":443?transport=tcp")
	return r
}

func newEnv(t *testing.T, opts ...func(*env) option) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now()}}
	cfg := turnkit.Config{
		DBPath: filepath.Join(t.TempDir(), "turnkit.db"),
		Now:    e.clock.Now,
		Relay: relay.Config{
			UDPAddrs:      []string{"127.0.0.1:0"},
			TCPAddrs:      []string{"127.0.0.1:0"},
			AllowPeers:    []string{echoIP},
			UsageInterval: 20 * time.Millisecond,
		},
	}
	for _, o := range opts {
		o(e)(&cfg)
	}
	kit, err := turnkit.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	e.kit = kit
	e.srv = httptest.NewServer(kit.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		if err := kit.Close(); err != nil {
			t.Errorf("Kit.Close: %v", err)
		}
	})
	if e.app, err = kit.CreateApp(context.Background(), turnkit.NewApp{Name: "compat"}); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	return e
}

// opt lifts a Config change that needs no env.
func opt(o option) func(*env) option { return func(*env) option { return o } }

// response is an answer as the test reads it.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v or fails the test.
func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d: body is not the JSON expected (%v): %s", r.status, err, r.body)
	}
}

// errorText returns the "error" member of an error body, failing the test
// if the body is not a JSON object with one.
func (r response) errorText(t *testing.T) string {
	t.Helper()
	var b map[string]any
	r.json(t, &b)
	s, ok := b["error"].(string)
	if !ok || s == "" {
		t.Fatalf("status %d: error body without an \"error\" text: %s", r.status, r.body)
	}
	return s
}

// do sends a request exactly as given: no header is added but those the
// HTTP client always sends.
func (e *env) do(t *testing.T, method, target string, header http.Header, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusNoContent && ct != "application/json" {
		t.Errorf("%s %s: status %d with Content-Type %q, want application/json", method, target, res.StatusCode, ct)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// refusal is a request an endpoint must refuse: its status, and a text
// the error body must hold.
type refusal struct {
	name, method, target string
	header               []string // name, value pairs
	body                 string
	status               int
	has                  string
}

// hdr builds a header from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// bearer is the Authorization header of the env's app key.
func (e *env) bearer() string { return "Bearer " + e.app.Key }

// turnURL is a parsed turn: or turns: URL.
type turnURL struct {
	scheme, hostPort, transport string
}

func parseTurnURL(t *testing.T, s string) turnURL {
	t.Helper()
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || (scheme != "turn" && scheme != "turns") {
		t.Fatalf("%q is not a turn: or turns: URL", s)
	}
	hostPort, query, _ := strings.Cut(rest, "?")
	transport := "udp"
	if scheme == "turns" {
		transport = "tcp"
	}
	if query != "" {
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("URL %q: %v", s, err)
		}
		if tr := v.Get("transport"); tr != "" {
			transport = tr
		}
	}
	return turnURL{scheme: scheme, hostPort: hostPort, transport: transport}
}

// allocate dials the relay of a turn: or turns: URL with a pion client and
// allocates with the credential.
func (e *env) allocate(t *testing.T, u, user, pass string) (net.PacketConn, error) {
	t.Helper()
	p := parseTurnURL(t, u)
	var conn net.Conn
	network := p.transport
	if p.scheme == "turns" {
		c, err := tls.Dial("tcp", p.hostPort, &tls.Config{RootCAs: e.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("tls.Dial %s: %v", p.hostPort, err)
		}
		conn, network = c, ""
	}
	client := turntest.Dial(t, network, p.hostPort, conn, user, pass, e.kit.Relay().Realm())
	return turntest.Allocate(t, client)
}

// roundTrip sends msg to peer through the relayed conn and waits for the
// echo.
func roundTrip(t *testing.T, rc net.PacketConn, peer net.Addr, msg string) {
	t.Helper()
	if _, err := rc.WriteTo([]byte(msg), peer); err != nil {
		t.Fatalf("relayed WriteTo %s: %v", peer, err)
	}
	buf := make([]byte, 2048)
	_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := rc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("relayed ReadFrom: %v", err)
	}
	if from.String() != peer.String() || string(buf[:n]) != msg {
		t.Fatalf("echo: got %q from %s, want %q from %s", buf[:n], from, msg, peer)
	}
}

// selfSigned returns a certificate for 127.0.0.1 valid for an hour and a
// pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "turnkit compat test"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// eventually polls cond until it holds, failing the test after a bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	turntest.Eventually(t, what, cond)
}
