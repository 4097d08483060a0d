package turnkit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
	"github.com/turnkit/turnkit/store/sqlite"
)

// TestStaticCredentialRequests: what CreateStaticCredential accepts and
// refuses, listing with pages and labels, and deletion by username and by
// label, confined to the app.
func TestStaticCredentialRequests(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	app := tk.app.App.ID
	for _, c := range []struct {
		name string
		req  turnkit.StaticCredentialRequest
		want error
	}{
		{"control character", turnkit.StaticCredentialRequest{AppID: app, Label: "a\x00b"}, turnkit.ErrBadRequest},
		{"newline", turnkit.StaticCredentialRequest{AppID: app, Label: "a\nb"}, turnkit.ErrBadRequest},
		{"C1 control", turnkit.StaticCredentialRequest{AppID: app, Label: "a\u0085b"}, turnkit.ErrBadRequest},
		{"invalid UTF-8", turnkit.StaticCredentialRequest{AppID: app, Label: "a\xffb"}, turnkit.ErrBadRequest},
		{"65 bytes", turnkit.StaticCredentialRequest{AppID: app, Label: strings.Repeat("x", 65)}, turnkit.ErrBadRequest},
		{"negative TTL", turnkit.StaticCredentialRequest{AppID: app, TTL: -time.Second}, turnkit.ErrBadRequest},
		{"TTL over ten years", turnkit.StaticCredentialRequest{AppID: app, TTL: turnkit.MaxStaticTTL + time.Second}, turnkit.ErrBadRequest},
		{"unknown app", turnkit.StaticCredentialRequest{AppID: "nope"}, turnkit.ErrInvalidKey},
		{"64 bytes of text", turnkit.StaticCredentialRequest{AppID: app, Label: strings.Repeat("é", 32)}, nil},
		{"no label, ten years", turnkit.StaticCredentialRequest{AppID: app, TTL: turnkit.MaxStaticTTL}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := tk.CreateStaticCredential(ctx, c.req)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("CreateStaticCredential = %v, want %v", err, c.want)
			}
			if err == nil && (!strings.HasPrefix(got.APIKey, turnkit.StaticAPIKeyPrefix) || len(got.Username) != 24 || got.AppID != app) {
				t.Errorf("created %+v", got)
			}
		})
	}
	list, total, err := tk.StaticCredentials(ctx, app, turnkit.StaticCredentialQuery{})
	if err != nil || total != 2 || len(list) != 2 {
		t.Fatalf("after the refusals: %d credentials (%v), want the 2 accepted", total, err)
	}
	other, err := tk.CreateApp(ctx, turnkit.NewApp{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	var made []*turnkit.CreatedStaticCredential
	for range 5 {
		tk.clock.Advance(time.Second)
		c, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: app, Label: "room"})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, c)
	}
	foreign, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: other.App.ID, Label: "room"})
	if err != nil {
		t.Fatal(err)
	}
	page, total, err := tk.StaticCredentials(ctx, app, turnkit.StaticCredentialQuery{Label: "room", Offset: 1, Limit: 2})
	if err != nil || total != 5 || len(page) != 2 || page[0].Username != made[1].Username || page[1].Username != made[2].Username {
		t.Fatalf("page 2 of 2 = %v, total %d, %v; want the 2nd and 3rd created of 5", page, total, err)
	}
	if _, _, err := tk.StaticCredentials(ctx, app, turnkit.StaticCredentialQuery{Limit: 1001}); !errors.Is(err, turnkit.ErrBadRequest) {
		t.Errorf("limit 1001: %v, want ErrBadRequest", err)
	}
	if err := tk.DeleteStaticCredential(ctx, app, foreign.Username); !errors.Is(err, turnkit.ErrNotFound) {
		t.Errorf("deleting another app's credential: %v, want ErrNotFound", err)
	}
	if err := tk.DeleteStaticCredential(ctx, app, made[0].Username); err != nil {
		t.Fatal(err)
	}
	if err := tk.DeleteStaticCredential(ctx, app, made[0].Username); !errors.Is(err, turnkit.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound", err)
	}
	if n, err := tk.DeleteStaticCredentialsByLabel(ctx, app, "room"); err != nil || n != 4 {
		t.Errorf("DeleteStaticCredentialsByLabel = %d, %v; want 4", n, err)
	}
	if _, err := tk.DeleteStaticCredentialsByLabel(ctx, app, ""); !errors.Is(err, turnkit.ErrBadRequest) {
		t.Errorf("empty label: %v, want ErrBadRequest (it must not delete the unlabelled ones)", err)
	}
	if _, total, _ := tk.StaticCredentials(ctx, other.App.ID, turnkit.StaticCredentialQuery{}); total != 1 {
		t.Errorf("the other app has %d credentials, want its 1", total)
	}
	if err := tk.PauseApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: app}); !errors.Is(err, turnkit.ErrAppPaused) {
		t.Errorf("paused app: %v, want ErrAppPaused", err)
	}
}

// TestStaticCredentialExpiry, on an injected clock: before its expiry the
// credential allocates; after it, it opens no new allocation and its
// apiKey is refused, while the live session goes on relaying and taking
// new permissions.
func TestStaticCredentialExpiry(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho)
	peer, second := turntest.Echo(t, echoIP), turntest.Echo(t, echoIP)
	c, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: tk.app.App.ID, Label: "short", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ExpiresAt.Sub(c.CreatedAt); got != time.Minute {
		t.Fatalf("expires after %s, want a minute", got)
	}
	live := tk.dialTURN("udp", c.Username, c.Password)
	rc, err := live.allocate()
	if err != nil {
		t.Fatalf("Allocate before expiry: %v", err)
	}
	roundTrip(t, rc, peer, []byte("before expiry"))

	tk.clock.Advance(time.Minute + 10*time.Second) // past the relay's 5 s clock skew
	if _, err := tk.dialTURN("udp", c.Username, c.Password).allocate(); err == nil {
		t.Fatal("an expired static credential opened an allocation")
	}
	roundTrip(t, rc, peer, []byte("after expiry"))
	roundTrip(t, rc, second, []byte("a new permission after expiry"))
	status, _ := tk.do("GET", "/api/v1/turn/credentials?apiKey="+c.APIKey, nil, nil)
	if status != 401 {
		t.Errorf("apiKey of the expired credential: status %d, want 401", status)
	}
	eventually(t, "the live session in the store", func() bool {
		n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
		return err == nil && n == 1
	})
}

// TestStaticCredentialBilling: a static credential's session is
// attributed to its app and charged exactly the bytes relayed, as any
// other.
func TestStaticCredentialBilling(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho, meterFast)
	peer := turntest.Echo(t, echoIP)
	c, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: tk.app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := tk.dialTURN("udp", c.Username, c.Password).allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	eventually(t, "the session in the store", func() bool {
		n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
		return err == nil && n == 1
	})
	var want int64
	for i := range 20 {
		msg := bytes.Repeat([]byte("s"), 10+i*53)
		roundTrip(t, rc, peer, msg)
		want += int64(len(msg))
	}
	_ = rc.Close()
	eventually(t, "the session to close", func() bool {
		n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
		return err == nil && n == 0
	})
	var charged int64
	var session string
	for _, e := range usageEntries(t, tk) {
		charged -= e.Subscription + e.PAYG
		session = strings.Split(e.Ref, ":")[1]
	}
	if charged != 2*want {
		t.Fatalf("ledger charged %d bytes, want %d (each payload to the peer and back)", charged, 2*want)
	}
	s, err := tk.Store().Session(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	if s.AppID != tk.app.App.ID || s.Username != c.Username || s.ToPeer != want || s.ToClient != want {
		t.Fatalf("session %+v, want the app's, with the static username and %d bytes each way", s, want)
	}
	journalMatches(t, tk.Ledger(), tk.Store(), tk.app.App.ID)
}

// TestStaticCredentialShared: a static credential is handed to every
// visitor of a page, so more clients than the relay's per-username cap
// (MaxAllocationsPerUser, 10) allocate with it at once, and each relays.
func TestStaticCredentialShared(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho)
	peer := turntest.Echo(t, echoIP)
	c, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: tk.app.App.ID, Label: "page"})
	if err != nil {
		t.Fatal(err)
	}
	const visitors = 15
	for i := range visitors {
		rc, err := tk.dialTURN("udp", c.Username, c.Password).allocate()
		if err != nil {
			t.Fatalf("visitor %d of %d: %v", i+1, visitors, err)
		}
		roundTrip(t, rc, peer, []byte(fmt.Sprintf("visitor %d", i+1)))
	}
	if got := tk.Relay().Stats().Allocations; got != visitors {
		t.Fatalf("live allocations = %d, want %d", got, visitors)
	}
}

// apiKeyLookupStore is the real SQLite store, counting the lookups of
// static credentials by front-end API key that reach it.
type apiKeyLookupStore struct {
	*sqlite.Store
	lookups atomic.Int64
}

func (s *apiKeyLookupStore) StaticCredentialByAPIKey(ctx context.Context, h [32]byte) (store.StaticCredential, error) {
	s.lookups.Add(1)
	return s.Store.StaticCredentialByAPIKey(ctx, h)
}

// TestStaticAPIKeyBruteForce: wrong front-end API keys from one address
// spend its failed attempts before they are looked up, so past the burst
// they never reach the store, while the right key from another address
// fetches its ICE servers every time, and from the throttled address too
// once cached.
func TestStaticAPIKeyBruteForce(t *testing.T) {
	st := openSQLite(t)
	ls := &apiKeyLookupStore{Store: st}
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Store = ls
		c.FailureLimits = turnkit.FailureLimits{Rate: 1, Burst: 20}
	})
	c, err := tk.CreateStaticCredential(context.Background(), turnkit.StaticCredentialRequest{AppID: tk.app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	get := func(hc *http.Client, key string) int {
		res, err := hc.Get(tk.http.URL + "/api/v1/turn/credentials?apiKey=" + key)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	attacker, honest := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	before := ls.lookups.Load()
	counts := map[int]int{}
	const guesses = 200
	for i := range guesses {
		counts[get(attacker, fmt.Sprintf("%sguess%027d", turnkit.StaticAPIKeyPrefix, i))]++
		if i%20 == 0 {
			if code := get(honest, c.APIKey); code != http.StatusOK {
				t.Fatalf("the right key from another address during the guesses: %d", code)
			}
		}
	}
	if counts[http.StatusUnauthorized] != 20 || counts[http.StatusTooManyRequests] != guesses-20 {
		t.Errorf("wrong keys answered %v, want 20 401s and the rest 429", counts)
	}
	// The honest key is looked up once, then cached; the guesses at most
	// the burst.
	if got := ls.lookups.Load() - before; got > 21 {
		t.Errorf("the store saw %d API key lookups, want at most 21", got)
	}
	if code := get(attacker, c.APIKey); code != http.StatusOK {
		t.Errorf("the cached right key from the throttled address: %d, want 200", code)
	}
}

// staticLookupStore is the real SQLite store, counting the static credential
// lookups that reach it.
type staticLookupStore struct {
	*sqlite.Store
	lookups atomic.Int64
}

func (s *staticLookupStore) StaticCredential(ctx context.Context, username string) (store.StaticCredential, error) {
	s.lookups.Add(1)
	return s.Store.StaticCredential(ctx, username)
}

// TestStaticCredentialCache: the relay looks a static credential up once
// per cache TTL, not per request or per packet; unknown names, and names
// that are not in the static form, do not reach the store each time; and
// a Kit sharing the store sees a deletion made elsewhere within the TTL.
func TestStaticCredentialCache(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	base, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = base.Close() })
	st := &staticLookupStore{Store: base}
	clk := newClock()
	a := openKit(t, turnkit.Config{Store: st, Now: clk.Now, KeyCacheTTL: 30 * time.Second,
		Relay: relay.Config{UDPAddrs: []string{"127.0.0.1:0"}, AllowPeers: []string{echoIP}}})
	b := openKit(t, turnkit.Config{Store: base, Now: clk.Now, NoRelay: true})
	app, err := b.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	peer := turntest.Echo(t, echoIP)
	server := a.Relay().UDPAddrs()[0].String()
	dial := func() (*turnClient, error) {
		cl := &turnClient{turntestDial(t, server, c.Username, c.Password), t}
		_, err := cl.allocate()
		return cl, err
	}
	for range 3 {
		cl, err := dial()
		if err != nil {
			t.Fatalf("Allocate: %v", err)
		}
		_ = cl
	}
	rc, err := (&turnClient{turntestDial(t, server, c.Username, c.Password), t}).allocate()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		roundTrip(t, rc, peer, []byte{byte(i)})
	}
	if n := st.lookups.Load(); n != 1 {
		t.Errorf("%d store lookups for 4 allocations and 50 packets, want 1", n)
	}
	for range 3 {
		if _, err := (&turnClient{turntestDial(t, server, "0123456789abcdef01234567", "x"), t}).allocate(); err == nil {
			t.Fatal("an unknown static username allocated")
		}
		if _, err := (&turnClient{turntestDial(t, server, "not-a-static-name", "x"), t}).allocate(); err == nil {
			t.Fatal("a malformed username allocated")
		}
	}
	if n := st.lookups.Load(); n != 2 {
		t.Errorf("%d store lookups after 3 tries of an unknown name and 3 of a malformed one, want 2 (the unknown one, once)", n)
	}

	// Deleted through the other Kit: this one's cache holds it until its
	// TTL runs out (the SQLite store carries no notifications).
	if err := b.DeleteStaticCredential(ctx, app.App.ID, c.Username); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(); err != nil {
		t.Fatalf("within the cache TTL, the other Kit's deletion is not seen yet: %v", err)
	}
	clk.Advance(31 * time.Second)
	if _, err := dial(); err == nil {
		t.Fatal("past the cache TTL, a credential deleted on another Kit still allocates")
	}
}

// TestStaticCredentialDeletedAcrossNodes: with the PostgreSQL store, a
// deletion on one node reaches the others at once through its
// notifications: their relays refuse the credential and end its live
// sessions without waiting for the cache TTL.
func TestStaticCredentialDeletedAcrossNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	clk := newClock()
	relayNode := openKit(t, turnkit.Config{Store: open(), Now: clk.Now, KeyCacheTTL: time.Hour,
		Relay: relay.Config{UDPAddrs: []string{"127.0.0.1:0"}, AllowPeers: []string{echoIP}}})
	issuer := openKit(t, turnkit.Config{Store: open(), Now: clk.Now, NoRelay: true, KeyCacheTTL: time.Hour})
	app, err := issuer.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := issuer.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	server := relayNode.Relay().UDPAddrs()[0].String()
	peer := turntest.Echo(t, echoIP)
	rc, err := (&turnClient{turntestDial(t, server, c.Username, c.Password), t}).allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	roundTrip(t, rc, peer, []byte("before"))
	if err := issuer.DeleteStaticCredential(ctx, app.App.ID, c.Username); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the relay node to end the deleted credential's session", func() bool {
		return len(relayNode.Relay().Sessions()) == 0
	})
	if _, err := (&turnClient{turntestDial(t, server, c.Username, c.Password), t}).allocate(); err == nil {
		t.Fatal("the relay node accepted a credential deleted on another node, within its cache TTL of an hour")
	}
}

// turntestDial connects a pion client over UDP to the relay at server.
func turntestDial(t *testing.T, server, user, pass string) *turn.Client {
	t.Helper()
	return turntest.Dial(t, "udp", server, nil, user, pass, "turnkit")
}
