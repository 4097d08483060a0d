package relay_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/turnkit/turnkit/relay"
)

func TestStaticSecrets(t *testing.T) {
	secret := []byte("game secret")
	ss := relay.NewStaticSecrets("k1", secret)
	secret[0] = 'X' // NewStaticSecrets keeps a copy
	got, ok := ss.Secret("k1", time.Now())
	if !ok || string(got) != "game secret" {
		t.Fatalf("Secret(k1) = %q, %v", got, ok)
	}
	if _, ok := ss.Secret("k2", time.Now()); ok {
		t.Fatal("Secret(k2) found a secret")
	}
	// Rotation: two key IDs at once.
	two := relay.StaticSecrets{"new": []byte("n"), "old": []byte("o")}
	for id, want := range map[string]string{"new": "n", "old": "o"} {
		if v, ok := two.Secret(id, time.Time{}); !ok || string(v) != want {
			t.Errorf("Secret(%s) = %q, %v", id, v, ok)
		}
	}
}

func TestRESTAuthenticator(t *testing.T) {
	auth := relay.NewRESTAuthenticator(relay.NewStaticSecrets("k1", testSecret))
	exp := time.Unix(1767225600, 0)
	full := relay.Username{Expires: exp, AppID: "demo", KeyID: "k1", Nonce: "n1", APIKey: "key123", Gateway: "0f0f0f"}.String()
	id, err := auth.Authenticate(context.Background(), &relay.AuthRequest{Username: full, Realm: "turnkit", Method: relay.MethodAllocate, At: exp.Add(time.Hour)})
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	want := relay.Identity{AppID: "demo", Password: relay.Credential(testSecret, full), Expires: exp, KeyID: "key123", Gateway: "0f0f0f"}
	if *id != want {
		t.Fatalf("identity %+v, want %+v (expiry is the relay's to check)", *id, want)
	}
	plain := relay.Username{Expires: exp, AppID: "demo", KeyID: "k1", Nonce: "n1"}.String()
	if id, err := auth.Authenticate(context.Background(), &relay.AuthRequest{Username: plain}); err != nil || id.KeyID != "" || id.Gateway != "" {
		t.Fatalf("username without segments: %+v, %v", id, err)
	}

	for name, tc := range map[string]struct {
		username string
		want     error
	}{
		"static credential": {"alice", relay.ErrMalformedUsername},
		"empty":             {"", relay.ErrMalformedUsername},
		"unknown key ID":    {relay.Username{Expires: exp, AppID: "demo", KeyID: "k9", Nonce: "n"}.String(), relay.ErrUnknownSecret},
	} {
		t.Run(name, func(t *testing.T) {
			id, err := auth.Authenticate(context.Background(), &relay.AuthRequest{Username: tc.username})
			if !errors.Is(err, tc.want) || id != nil {
				t.Fatalf("Authenticate(%q) = %+v, %v; want %v", tc.username, id, err, tc.want)
			}
		})
	}
}

// staticAuth accepts fixed username/password pairs that are not in
// turnkit's form, as the root's static credentials are, and counts its
// calls by method.
type staticAuth struct {
	users map[string]relay.Identity
	calls sync.Map // relay.Method → *atomic.Int64
	last  atomic.Pointer[relay.AuthRequest]
	ctx   atomic.Pointer[context.Context]
}

func (a *staticAuth) Authenticate(ctx context.Context, req *relay.AuthRequest) (*relay.Identity, error) {
	n, _ := a.calls.LoadOrStore(req.Method, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	r := *req
	a.last.Store(&r)
	a.ctx.Store(&ctx)
	id, ok := a.users[req.Username]
	if !ok {
		return nil, errors.New("unknown user")
	}
	return &id, nil
}

func (a *staticAuth) count(m relay.Method) int64 {
	if n, ok := a.calls.Load(m); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// TestCustomAuthenticator: usernames that are not in turnkit's form,
// accepted by a custom authenticator, allocate; their sessions are
// attributed to the Identity (app, API key, gateway); the per-app quota
// counts them by Identity.AppID; relayed packets do not call the
// authenticator; and a refused or nil identity is a 401.
func TestCustomAuthenticator(t *testing.T) {
	auth := &staticAuth{users: map[string]relay.Identity{
		"alice": {AppID: "appA", Password: "pw-alice", KeyID: "keyA", Gateway: "gw1"},
		"bob":   {AppID: "appA", Password: "pw-bob"},
		"carol": {AppID: "appC", Password: "pw-carol"},
	}}
	log := &eventLog{}
	s := newRelay(t, func(c *relay.Config) {
		c.Secrets, c.Authenticator = nil, auth
		c.Sink = log
		c.MaxAllocationsPerApp = 1
	})
	rc, err := allocate(t, dial(t, s, "alice", "pw-alice"))
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	if r := auth.last.Load(); r.Realm != s.Realm() || r.At.IsZero() {
		t.Errorf("AuthRequest %+v: want the realm and the time", r)
	}
	if _, err := allocate(t, dial(t, s, "bob", "pw-bob")); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("bob, second of appA: %v, want 486 (per-app quota by Identity.AppID)", err)
	}
	if _, err := allocate(t, dial(t, s, "carol", "pw-carol")); err != nil {
		t.Fatalf("carol, of appC: %v", err)
	}
	failures := s.Stats().AuthFailures
	if _, err := allocate(t, dial(t, s, "alice", "wrong")); err == nil {
		t.Fatal("alice with a wrong password allocated")
	}
	if _, err := allocate(t, dial(t, s, "mallory", "pw")); err == nil {
		t.Fatal("an unknown user allocated")
	}
	if s.Stats().AuthFailures <= failures {
		t.Error("AuthFailures did not count the unknown user")
	}

	waitFor(t, "two sessions", func() bool { return log.startedCount() == 2 })
	log.mu.Lock()
	starts := append([]relay.SessionEvent(nil), log.started...)
	log.mu.Unlock()
	got := map[string]relay.SessionEvent{}
	for _, ev := range starts {
		got[ev.Username] = ev
	}
	if a := got["alice"]; a.AppID != "appA" || a.KeyID != "keyA" || a.Gateway != "gw1" {
		t.Errorf("alice's session %+v: want appA, keyA, gw1", a)
	}
	if c := got["carol"]; c.AppID != "appC" || c.KeyID != "" || c.Gateway != "" {
		t.Errorf("carol's session %+v: want appC", c)
	}

	// Relayed packets are not authenticated: the calls do not grow with
	// them (the first send creates a permission and binds a channel, which
	// are requests).
	peer := echoPeer(t)
	echo := func() {
		buf := make([]byte, 100)
		if _, err := rc.WriteTo([]byte("ping"), peer); err != nil {
			t.Fatal(err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, _, err := rc.ReadFrom(buf); err != nil || !bytes.Equal(buf[:n], []byte("ping")) {
			t.Fatalf("echo: %v", err)
		}
	}
	echo()
	waitFor(t, "the channel binding", func() bool { return auth.count(relay.MethodChannelBind) > 0 })
	before := auth.count(relay.MethodAllocate) + auth.count(relay.MethodCreatePermission) +
		auth.count(relay.MethodChannelBind) + auth.count(relay.MethodRefresh)
	for range 50 {
		echo()
	}
	after := auth.count(relay.MethodAllocate) + auth.count(relay.MethodCreatePermission) +
		auth.count(relay.MethodChannelBind) + auth.count(relay.MethodRefresh)
	if after != before {
		t.Errorf("50 relayed packets called the authenticator %d times", after-before)
	}
	if auth.count(relay.MethodCreatePermission) == 0 {
		t.Errorf("CreatePermission did not call the authenticator")
	}

	ctx := *auth.ctx.Load()
	if ctx.Err() != nil {
		t.Fatal("the authenticator's context is done before Close")
	}
	_ = s.Close()
	if ctx.Err() == nil {
		t.Error("the authenticator's context is not done after Close")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.ended) != 2 {
		t.Errorf("%d end events, want 2", len(log.ended))
	}
}

// nilIdentity answers nil, nil: a refusal.
type nilIdentity struct{}

func (nilIdentity) Authenticate(context.Context, *relay.AuthRequest) (*relay.Identity, error) {
	return nil, nil
}

func TestAuthenticatorNilIdentity(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.Secrets, c.Authenticator = nil, nilIdentity{} })
	if _, err := allocate(t, dial(t, s, "anyone", "pw")); err == nil {
		t.Fatal("allocated with a nil identity")
	}
	if s.Stats().AuthFailures == 0 {
		t.Fatal("AuthFailures = 0")
	}
}

// chained tries turnkit's REST form first and falls back to static
// credentials, as the root package does.
type chained struct {
	rest   relay.Authenticator
	static map[string]string
}

func (c chained) Authenticate(ctx context.Context, req *relay.AuthRequest) (*relay.Identity, error) {
	id, err := c.rest.Authenticate(ctx, req)
	if !errors.Is(err, relay.ErrMalformedUsername) {
		return id, err
	}
	if pw, ok := c.static[req.Username]; ok {
		return &relay.Identity{AppID: "static-app", Password: pw}, nil
	}
	return nil, err
}

func TestAuthenticatorChain(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) {
		c.Secrets = nil
		c.Authenticator = chained{rest: relay.NewRESTAuthenticator(staticSecrets{"k1": testSecret}), static: map[string]string{"dave": "pw-dave"}}
	})
	user, pass := mint("rest-app", time.Minute)
	if _, err := allocate(t, dial(t, s, user, pass)); err != nil {
		t.Fatalf("REST credential: %v", err)
	}
	if _, err := allocate(t, dial(t, s, "dave", "pw-dave")); err != nil {
		t.Fatalf("static credential: %v", err)
	}
	if _, err := allocate(t, dial(t, s, "dave", "pw-other")); err == nil {
		t.Fatal("static credential with a wrong password allocated")
	}
}

// settableClock is a clock tests move by hand.
type settableClock struct{ ns atomic.Int64 }

func (c *settableClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *settableClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *settableClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestIdentityExpiry: an Allocate is refused past Identity.Expires plus
// ClockSkew, while a live allocation's Refresh past it still succeeds; a
// zero Expires never expires.
func TestIdentityExpiry(t *testing.T) {
	clock := &settableClock{}
	clock.set(time.Now())
	exp := clock.now().Add(time.Minute)
	auth := &staticAuth{users: map[string]relay.Identity{
		"timed":   {AppID: "a", Password: "pw", Expires: exp},
		"forever": {AppID: "a", Password: "pw"},
	}}
	s := newRelay(t, func(c *relay.Config) {
		c.Secrets, c.Authenticator = nil, auth
		c.Now = clock.now
		c.ClockSkew = time.Second
	})
	raw := newRawClient(t, s)
	raw.user, raw.pass = "timed", "pw"
	raw.allocate()

	clock.set(exp.Add(2 * time.Second)) // past Expires + ClockSkew
	if res := raw.do(stun.MethodRefresh, lifetime(600)); res.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("Refresh past expiry: %s, want success", res)
	}
	if _, err := allocate(t, dial(t, s, "timed", "pw")); err == nil {
		t.Fatal("Allocate past Expires+ClockSkew succeeded")
	}
	clock.advance(24 * time.Hour)
	if _, err := allocate(t, dial(t, s, "forever", "pw")); err != nil {
		t.Fatalf("Allocate with no expiry: %v", err)
	}
}

// lifetime is a LIFETIME attribute of secs seconds.
func lifetime(secs uint32) stun.RawAttribute {
	return stun.RawAttribute{Type: stun.AttrLifetime, Value: []byte{byte(secs >> 24), byte(secs >> 16), byte(secs >> 8), byte(secs)}}
}

// TestIdentityMaxAllocations: an Identity's MaxAllocations replaces the
// relay's per-username cap for that username: a negative one lifts it
// (a credential shared by a page's every visitor), a positive one sets
// its own, zero keeps the relay's; the app's cap still holds for all.
func TestIdentityMaxAllocations(t *testing.T) {
	auth := &staticAuth{users: map[string]relay.Identity{
		"shared":  {AppID: "web", Password: "pw", MaxAllocations: -1},
		"two":     {AppID: "web", Password: "pw", MaxAllocations: 2},
		"default": {AppID: "web", Password: "pw"},
		"other":   {AppID: "other", Password: "pw", MaxAllocations: -1},
	}}
	s := newRelay(t, func(c *relay.Config) {
		c.Secrets, c.Authenticator = nil, auth
		c.MaxAllocationsPerUser = 1
		c.MaxAllocationsPerApp = 6
		c.TCPAddrs = nil
	})
	for _, tc := range []struct {
		user string
		ok   int // allocations that must succeed before a 486
	}{{"default", 1}, {"two", 2}, {"shared", 3}} {
		for i := range tc.ok {
			if _, err := allocate(t, dial(t, s, tc.user, "pw")); err != nil {
				t.Fatalf("%s, allocation %d of %d: %v", tc.user, i+1, tc.ok, err)
			}
		}
		if tc.user == "shared" {
			continue // it has no cap of its own: the app's is tested next
		}
		if _, err := allocate(t, dial(t, s, tc.user, "pw")); err == nil || !strings.Contains(err.Error(), "486") {
			t.Fatalf("%s, allocation %d: %v, want 486", tc.user, tc.ok+1, err)
		}
	}
	// The app holds 1 + 2 + 3 = 6 allocations, its cap: "shared" gets no
	// seventh, while another app's shared credential still allocates.
	if _, err := allocate(t, dial(t, s, "shared", "pw")); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("shared, past the app's cap: %v, want 486", err)
	}
	if _, err := allocate(t, dial(t, s, "other", "pw")); err != nil {
		t.Fatalf("other app: %v", err)
	}
	if got := s.Stats().Allocations; got != 7 {
		t.Fatalf("Allocations = %d, want 7", got)
	}
}

// TestQuotaPerAppDefault: by default one app may hold all but a tenth of
// the relay's allocations, so a relay that serves one app gives it nearly
// all, and another app the rest.
func TestQuotaPerAppDefault(t *testing.T) {
	auth := &staticAuth{users: map[string]relay.Identity{
		"big":   {AppID: "big", Password: "pw", MaxAllocations: -1},
		"small": {AppID: "small", Password: "pw", MaxAllocations: -1},
	}}
	s := newRelay(t, func(c *relay.Config) {
		c.Secrets, c.Authenticator = nil, auth
		c.MaxAllocations = 10
		c.TCPAddrs = nil
	})
	for i := range 9 {
		if _, err := allocate(t, dial(t, s, "big", "pw")); err != nil {
			t.Fatalf("allocation %d of 9 of one app: %v", i+1, err)
		}
	}
	if _, err := allocate(t, dial(t, s, "big", "pw")); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("the app's 10th allocation: %v, want 486", err)
	}
	if _, err := allocate(t, dial(t, s, "small", "pw")); err != nil {
		t.Fatalf("another app's allocation: %v", err)
	}
	if _, err := allocate(t, dial(t, s, "small", "pw")); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("past the relay's 10: %v, want 486", err)
	}
}
