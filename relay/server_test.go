package relay_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// staticSecrets is relay.StaticSecrets, so that every test of the
// package runs on it.
type staticSecrets = relay.StaticSecrets

// recordingSink records session events in order.
type recordingSink struct {
	mu     sync.Mutex
	events []string
	usage  []relay.UsageDelta
}

func (r *recordingSink) SessionStarted(_ context.Context, ev *relay.SessionEvent) error {
	r.add("start " + ev.AppID + " " + ev.Transport)
	return nil
}

func (r *recordingSink) Usage(_ context.Context, d *relay.UsageDelta) error {
	r.mu.Lock()
	r.usage = append(r.usage, *d)
	r.mu.Unlock()
	return nil
}

func (r *recordingSink) SessionEnded(_ context.Context, ev *relay.SessionEvent) error {
	r.add("end " + ev.AppID + " " + ev.Transport)
	return nil
}

func (r *recordingSink) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

// deltas returns how many usage deltas the sink has received.
func (r *recordingSink) deltas() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.usage)
}

func (r *recordingSink) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

var testSecret = []byte("relay-test-secret-0123456789")

func newRelay(t testing.TB, mod func(*relay.Config)) *relay.Server {
	t.Helper()
	cfg := relay.Config{
		UDPAddrs:   []string{"127.0.0.1:0"},
		TCPAddrs:   []string{"127.0.0.1:0"},
		Secrets:    staticSecrets{"k1": testSecret},
		AllowPeers: []string{"127.0.0.3"},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := relay.New(cfg)
	if err != nil {
		t.Fatalf("relay.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mint(app string, ttl time.Duration) (string, string) {
	u := relay.Username{Expires: time.Now().Add(ttl), AppID: app, KeyID: "k1", Nonce: "n" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")}
	name := u.String()
	return name, relay.Credential(testSecret, name)
}

func dial(t testing.TB, s *relay.Server, user, pass string) *turn.Client {
	t.Helper()
	return turntest.Dial(t, "udp", s.UDPAddrs()[0].String(), nil, user, pass, s.Realm())
}

func allocate(t testing.TB, c *turn.Client) (net.PacketConn, error) {
	t.Helper()
	return turntest.Allocate(t, c)
}

func TestQuotaPerUser(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.MaxAllocationsPerUser = 1 })
	user, pass := mint("game", time.Minute)
	if _, err := allocate(t, dial(t, s, user, pass)); err != nil {
		t.Fatalf("first allocation: %v", err)
	}
	_, err := allocate(t, dial(t, s, user, pass))
	if err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("second allocation with the same username: %v, want 486", err)
	}
	if got := s.Stats().QuotaRefused; got != 1 {
		t.Fatalf("QuotaRefused = %d, want 1", got)
	}
	// Another username of the same app is not limited by the per-user cap.
	user2, pass2 := mint("game", time.Minute)
	if _, err := allocate(t, dial(t, s, user2, pass2)); err != nil {
		t.Fatalf("allocation with another username: %v", err)
	}
}

func TestQuotaPerApp(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.MaxAllocationsPerApp = 2 })
	for i := range 2 {
		u, p := mint("busy", time.Minute)
		if _, err := allocate(t, dial(t, s, u, p)); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
	}
	u, p := mint("busy", time.Minute)
	if _, err := allocate(t, dial(t, s, u, p)); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("third allocation of the app: %v, want 486", err)
	}
	u, p = mint("other", time.Minute)
	if _, err := allocate(t, dial(t, s, u, p)); err != nil {
		t.Fatalf("another app: %v", err)
	}
}

func TestMaxAllocationsPerRelay(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.MaxAllocations = 2 })
	for i := range 2 {
		u, p := mint(fmt.Sprintf("app%d", i), time.Minute)
		if _, err := allocate(t, dial(t, s, u, p)); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
	}
	u, p := mint("app9", time.Minute)
	if _, err := allocate(t, dial(t, s, u, p)); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("allocation past the relay's cap: %v, want 486", err)
	}
}

type denyAll struct{}

func (denyAll) Admit(context.Context, *relay.AdmitRequest) error { return errors.New("paused") }

func TestAdmitterRefuses(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.Admitter = denyAll{} })
	u, p := mint("paused", time.Minute)
	if _, err := allocate(t, dial(t, s, u, p)); err == nil {
		t.Fatal("allocation admitted, want refused")
	}
	if s.Stats().AuthFailures == 0 {
		t.Fatal("AuthFailures = 0 after a refused allocation")
	}
}

func TestSessionEventsAndClose(t *testing.T) {
	sink := &recordingSink{}
	s, err := relay.New(relay.Config{
		UDPAddrs: []string{"127.0.0.1:0"},
		Secrets:  staticSecrets{"k1": testSecret},
		Sink:     sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	u, p := mint("ev", time.Minute)
	c := dial(t, s, u, p)
	rc, err := allocate(t, c)
	if err != nil {
		t.Fatal(err)
	}
	_ = rc // left open: Close must end the session
	if got := s.Stats().Allocations; got != 1 {
		t.Fatalf("Allocations = %d, want 1", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := sink.list()
	if len(got) != 2 || got[0] != "start ev udp" || got[1] != "end ev udp" {
		t.Fatalf("events %q, want start then end", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	ok := relay.NewStaticSecrets("k1", testSecret)
	udp := []string{"127.0.0.1:0"}
	rest := relay.NewRESTAuthenticator(ok)
	cases := map[string]struct {
		cfg  relay.Config
		want string // in the error
	}{
		"no secrets":           {relay.Config{UDPAddrs: udp}, "Secrets or Authenticator is required"},
		"secrets and auth":     {relay.Config{UDPAddrs: udp, Secrets: ok, Authenticator: rest}, "not both"},
		"empty static secrets": {relay.Config{UDPAddrs: udp, Secrets: staticSecrets{}}, "holds no secret"},
		"upper-case key ID":    {relay.Config{UDPAddrs: udp, Secrets: relay.NewStaticSecrets("K1", testSecret)}, `key ID "K1"`},
		"key ID with a dot":    {relay.Config{UDPAddrs: udp, Secrets: relay.NewStaticSecrets("k.1", testSecret)}, `key ID "k.1"`},
		"empty secret":         {relay.Config{UDPAddrs: udp, Secrets: relay.NewStaticSecrets("k1", nil)}, "empty secret"},
		"bad allow entry":      {relay.Config{UDPAddrs: udp, Secrets: ok, AllowPeers: []string{"10.0.0.1/8"}}, "peer policy"},
		"bad deny entry":       {relay.Config{UDPAddrs: udp, Secrets: ok, DenyPeers: []string{"nonsense"}}, "peer policy"},
		"unspecified":          {relay.Config{UDPAddrs: []string{"0.0.0.0:0"}, Secrets: ok}, "unspecified"},
		"tls without cert":     {relay.Config{TLSAddrs: udp, Secrets: ok}, "need TLSConfig"},
		"bad address":          {relay.Config{UDPAddrs: []string{"127.0.0.1"}, Secrets: ok}, "missing port"},
		"nil packet conn":      {relay.Config{PacketConns: []net.PacketConn{nil}, Secrets: ok}, "PacketConns[0] is nil"},
		"nil listener":         {relay.Config{Listeners: []net.Listener{nil}, Secrets: ok}, "Listeners[0] is nil"},
		"nil TLS listener":     {relay.Config{TLSListeners: []net.Listener{nil}, Secrets: ok}, "TLSListeners[0] is nil"},
		"IPv4 bind for IPv6":   {relay.Config{UDPAddrs: []string{"[::1]:0"}, RelayBindIP: netip.MustParseAddr("0.0.0.0"), Secrets: ok}, "RelayBindIP 0.0.0.0 cannot bind"},
		"IPv6 bind for IPv4":   {relay.Config{UDPAddrs: udp, RelayBindIP: netip.MustParseAddr("::1"), Secrets: ok}, "RelayBindIP ::1 cannot bind"},
		"host name without IP": {relay.Config{UDPAddrs: []string{"localhost:0"}, Secrets: ok}, "set RelayIP"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := relay.New(tc.cfg)
			if err == nil {
				_ = s.Close()
				t.Fatal("relay.New succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("relay.New: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestSocketBuffers(t *testing.T) {
	s := newRelay(t, nil)
	bufs := s.SocketBuffers()
	if len(bufs) != 1 || bufs[0].Requested != 2<<20 {
		t.Fatalf("SocketBuffers = %+v, want one UDP listener with 2 MiB requested", bufs)
	}
	if bufs[0].Read == 0 {
		t.Skip("platform does not report socket buffer sizes")
	}
	t.Logf("listener buffers: requested %d, granted read %d write %d", bufs[0].Requested, bufs[0].Read, bufs[0].Write)
	if bufs[0].Read <= 212992 {
		t.Errorf("read buffer %d is no larger than a stock kernel default; the request was not applied", bufs[0].Read)
	}
}
