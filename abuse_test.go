package turnkit_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// countingStore is the real SQLite store, counting the API key lookups
// that reach it.
type countingStore struct {
	store.Store
	keyLookups atomic.Int64
}

func (c *countingStore) KeyByHash(ctx context.Context, h [32]byte) (store.APIKey, error) {
	c.keyLookups.Add(1)
	return c.Store.KeyByHash(ctx, h)
}

// openSQLite opens the real SQLite store in a file of the test's, closed
// when the test ends, for tests that wrap it before a Kit gets it.
func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "turnkit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address src.
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 32}}
}

// TestBruteForceThrottled: 2,000 wrong API keys from one address while
// another address's correct key gets 200 every time; the store sees no
// more of the wrong keys than the failure burst, since the clock (which
// refills the bucket) stands still.
func TestBruteForceThrottled(t *testing.T) {
	st := openSQLite(t)
	cs := &countingStore{Store: st}
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Store = cs
		c.FailureLimits = turnkit.FailureLimits{Rate: 1, Burst: 20}
	})
	url := tk.http.URL + "/v1/credentials"
	post := func(c *http.Client, key string) int {
		res, err := c.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`{"key": %q}`, key)))
		if err != nil {
			t.Errorf("POST: %v", err)
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	attacker, honest := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	before := cs.keyLookups.Load()

	var statuses sync.Map // status → count, for the attacker
	var wg sync.WaitGroup
	const guesses = 2000
	next := atomic.Int64{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= guesses; i = next.Add(1) {
				code := post(attacker, fmt.Sprintf("tk_guess%028d", i))
				n, _ := statuses.LoadOrStore(code, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		}()
	}
	honestOK := 0
	for range 100 {
		if code := post(honest, tk.app.Key); code == http.StatusOK {
			honestOK++
		}
	}
	wg.Wait()
	if honestOK != 100 {
		t.Errorf("the correct key from another address got 200 %d times of 100", honestOK)
	}
	count := func(code int) int64 {
		if n, ok := statuses.Load(code); ok {
			return n.(*atomic.Int64).Load()
		}
		return 0
	}
	unauthorized, limited := count(http.StatusUnauthorized), count(http.StatusTooManyRequests)
	if unauthorized+limited != guesses || unauthorized > 20 {
		t.Errorf("wrong keys: %d answered 401, %d answered 429, of %d; want at most the burst (20) of 401s", unauthorized, limited, guesses)
	}
	// The honest key is looked up once (then cached); the wrong ones at most
	// the burst.
	if got := cs.keyLookups.Load() - before; got > 21 {
		t.Errorf("the store saw %d key lookups during the brute force, want at most 21", got)
	}
	t.Logf("brute force of %d wrong keys: %d answered 401, %d answered 429; store key lookups %d; honest 200s %d/100",
		guesses, unauthorized, limited, cs.keyLookups.Load()-before, honestOK)

	// The attacker's address, throttled, still gets a key it uses
	// correctly, once cached: an office behind one NAT keeps working.
	if code := post(attacker, tk.app.Key); code != http.StatusOK {
		t.Errorf("a cached correct key from the throttled address got %d, want 200", code)
	}
	res, err := attacker.Post(url, "application/json", strings.NewReader(`{"key": "tk_guess_after"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("a wrong key from the throttled address: %d, Retry-After %q; want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// A second later one more guess is allowed (Rate 1 per second).
	tk.clock.Advance(time.Second)
	if code := post(attacker, "tk_guess_later"); code != http.StatusUnauthorized {
		t.Errorf("a wrong key a second later: %d, want 401", code)
	}
}

// gatedStore is the real SQLite store, whose API key lookups wait, while
// a gate is set, until it is closed; it counts them and signals the first.
type gatedStore struct {
	store.Store
	gate    atomic.Pointer[chan struct{}]
	inside  chan struct{} // receives once, when the first lookup waits
	entered atomic.Int64
}

func (g *gatedStore) KeyByHash(ctx context.Context, h [32]byte) (store.APIKey, error) {
	if gate := g.gate.Load(); gate != nil {
		if g.entered.Add(1) == 1 {
			close(g.inside)
		}
		<-*gate
	}
	return g.Store.KeyByHash(ctx, h)
}

// TestConcurrentValidKeyFromOneSource: when a valid key's cache entry has
// expired (or on its first use), a backend's concurrent requests from one
// address, three times the failure burst, all authenticate, sharing
// lookups instead of each spending one of the source's failed attempts;
// the store sees fewer lookups than the burst.
func TestConcurrentValidKeyFromOneSource(t *testing.T) {
	st := openSQLite(t)
	gs := &gatedStore{Store: st, inside: make(chan struct{})}
	const burst, requests = 20, 60
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Store = gs
		c.FailureLimits = turnkit.FailureLimits{Rate: 1, Burst: burst}
	})
	ctx := context.Background()
	src := netip.MustParseAddr("127.0.0.1")
	if _, err := tk.Issuer().AuthenticateFrom(ctx, tk.app.Key, src); err != nil {
		t.Fatal(err)
	}
	tk.clock.Advance(31 * time.Second) // past KeyCacheTTL (30 s): the entry has expired
	gate := make(chan struct{})
	gs.gate.Store(&gate)

	var ready, done sync.WaitGroup
	errs := make(chan error, requests)
	for range requests {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			c, err := tk.Issuer().AuthenticateFrom(ctx, tk.app.Key, src)
			if err == nil && c.AppID != tk.app.App.ID {
				err = fmt.Errorf("authenticated as app %q, want %q", c.AppID, tk.app.App.ID)
			}
			errs <- err
		}()
	}
	ready.Wait()
	<-gs.inside // a lookup is waiting at the gate
	close(gate)
	done.Wait()
	close(errs)
	failed := 0
	var first error
	for err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d concurrent requests with a valid key failed; the first: %v", failed, requests, first)
	}
	if n := gs.entered.Load(); n >= burst {
		t.Errorf("the store saw %d key lookups for %d concurrent requests with one key, want fewer than %d", n, requests, burst)
	}
	t.Logf("%d concurrent requests with one valid key from one address: all authenticated, %d store lookups", requests, gs.entered.Load())
}

// TestKeyLookupCancelled: a request whose context ends while its key is
// looked up returns at once with the context's error, and the lookup it
// started still serves a request that waits for it.
func TestKeyLookupCancelled(t *testing.T) {
	st := openSQLite(t)
	gs := &gatedStore{Store: st, inside: make(chan struct{})}
	tk := newTestKit(t, func(c *turnkit.Config) { c.Store = gs })
	gate := make(chan struct{})
	gs.gate.Store(&gate)
	src := netip.MustParseAddr("127.0.0.1")

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := tk.Issuer().AuthenticateFrom(ctx, tk.app.Key, src)
		first <- err
	}()
	<-gs.inside
	second := make(chan error, 1)
	go func() {
		_, err := tk.Issuer().AuthenticateFrom(context.Background(), tk.app.Key, src)
		second <- err
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled request: %v, want context.Canceled", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Fatalf("the request that waited: %v", err)
	}
}

// TestThrottledAddressKeepsItsKeys: an address whose failed attempts an
// attacker behind it has used up keeps the keys it uses after their cache
// entries expire (an API key, and a static credential's front-end key),
// while new wrong keys from it still get 429.
func TestThrottledAddressKeepsItsKeys(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.FailureLimits = turnkit.FailureLimits{Rate: 0.001, Burst: 5}
	})
	ctx := context.Background()
	static, err := tk.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: tk.app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	office := clientFrom("127.0.0.1")
	status := func(method, path, body string) int {
		req, err := http.NewRequest(method, tk.http.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := office.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	apiKey := func() int { return status("POST", "/v1/credentials", fmt.Sprintf(`{"key": %q}`, tk.app.Key)) }
	frontEnd := func() int { return status("GET", "/api/v1/turn/credentials?apiKey="+static.APIKey, "") }
	if a, f := apiKey(), frontEnd(); a != 200 || f != 200 {
		t.Fatalf("first use: %d, %d", a, f)
	}
	for i := range 6 {
		code := status("POST", "/v1/credentials", fmt.Sprintf(`{"key": "tk_wrong%024d"}`, i))
		if want := map[bool]int{true: 401, false: 429}[i < 5]; code != want {
			t.Fatalf("wrong key %d: %d, want %d", i+1, code, want)
		}
	}
	tk.clock.Advance(31 * time.Second)    // past KeyCacheTTL; 0.031 attempts refilled
	if err := tk.Sweep(ctx); err != nil { // a fresh report of the relay's health
		t.Fatal(err)
	}
	if a, f := apiKey(), frontEnd(); a != 200 || f != 200 {
		t.Fatalf("after the cache entries expired, from the throttled address: API key %d, front-end key %d; want 200", a, f)
	}
	if code := status("POST", "/v1/credentials", `{"key": "tk_wrong_again"}`); code != 429 {
		t.Fatalf("a new wrong key: %d, want 429", code)
	}
	// A revoked key is no longer known: from the throttled address it is
	// limited like any key the cache does not hold.
	if err := tk.RevokeKey(ctx, tk.app.KeyID); err != nil {
		t.Fatal(err)
	}
	if a := apiKey(); a != 429 {
		t.Fatalf("the revoked key from the throttled address: %d, want 429", a)
	}
}

// TestUnknownKeysCachedBriefly: the same wrong key asked again does not
// read the store until the negative entry expires, and a key created in
// this process is not refused by the negative entry.
func TestUnknownKeysCachedBriefly(t *testing.T) {
	st := openSQLite(t)
	cs := &countingStore{Store: st}
	tk := newTestKit(t, func(c *turnkit.Config) { c.Store = cs })
	ctx := context.Background()
	const wrong = "tk_thiskeyisnotknownthiskeyisnotkn"
	for range 5 {
		if _, err := tk.Issuer().Authenticate(ctx, wrong); !errors.Is(err, turnkit.ErrInvalidKey) {
			t.Fatalf("wrong key: %v", err)
		}
	}
	if n := cs.keyLookups.Load(); n != 1 {
		t.Errorf("five tries of one wrong key read the store %d times, want 1", n)
	}
	tk.clock.Advance(6 * time.Second)
	_, _ = tk.Issuer().Authenticate(ctx, wrong)
	if n := cs.keyLookups.Load(); n != 2 {
		t.Errorf("after the negative entry expired: %d lookups, want 2", n)
	}
	// Now the key is created (an embedder chose it): it works at once.
	app, err := tk.CreateApp(ctx, turnkit.NewApp{Key: wrong})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tk.Issuer().Authenticate(ctx, wrong); err != nil || c.AppID != app.App.ID {
		t.Fatalf("the key just created: %+v, %v", c, err)
	}
}

// TestWebinarCrowd: one backend minting for a 5,000-person webinar that
// starts within a minute (a burst of 1,500 at the start, then bursts of
// 100 spread over the minute) gets no 429 from the default limits, while a
// flood far above them still does.
func TestWebinarCrowd(t *testing.T) {
	// The test clock runs a minute ahead of the relay's reports: keep the
	// relay healthy meanwhile.
	tk := newTestKit(t, func(c *turnkit.Config) { c.Fleet.OfflineAfter = time.Hour; c.Fleet.DeadAfter = time.Hour })
	ctx := context.Background()
	caller, err := tk.Issuer().Authenticate(ctx, tk.app.Key)
	if err != nil {
		t.Fatal(err)
	}
	req := func() error {
		_, err := tk.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: caller.AppID, KeyID: caller.KeyID, RateLimit: true})
		return err
	}
	issued, limited := 0, 0
	count := func(err error) {
		switch {
		case err == nil:
			issued++
		case errors.Is(err, turnkit.ErrRateLimited):
			limited++
		default:
			t.Fatal(err)
		}
	}
	for range 1500 {
		count(req())
	}
	for sec := 1; issued+limited < 5000; sec++ {
		tk.clock.Advance(time.Second)
		for range min(100, 5000-issued-limited) {
			count(req())
		}
		if sec%2 == 0 { // some seconds bring two bursts
			for range min(100, 5000-issued-limited) {
				count(req())
			}
		}
	}
	if limited != 0 || issued != 5000 {
		t.Fatalf("webinar: %d issued, %d rate limited; want all 5000 issued", issued, limited)
	}
	// A leaked key asking far faster than any crowd is still stopped.
	tk.clock.Advance(time.Minute)
	issued, limited = 0, 0
	for range 5000 {
		count(req())
	}
	if limited == 0 {
		t.Fatalf("5,000 requests in the same instant: none rate limited")
	}
}

// TestExchangeNamespacesPerKeyDefault: by default one key may hold all
// but a tenth of its app's live namespaces, so an app whose clients share
// its one key keeps nearly all of them, and its other keys the rest.
func TestExchangeNamespacesPerKeyDefault(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Exchange = turnkit.ExchangeConfig{MaxNamespacesPerApp: 20}
	})
	ctx := context.Background()
	_, otherKey, err := tk.AddKey(ctx, tk.app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	post := func(key, ns string) int {
		status, _ := tk.do(http.MethodPost, "/v1/exchange", strings.NewReader(
			fmt.Sprintf(`{"key": %q, "namespace": %q, "my_transport_address": "198.51.100.1:5000"}`, key, ns)), nil)
		return status
	}
	for i := range 18 {
		if status := post(tk.app.Key, fmt.Sprintf("room-%d", i)); status != 200 {
			t.Fatalf("namespace %d of 18 for one key: %d", i+1, status)
		}
	}
	if status := post(tk.app.Key, "room-18"); status != http.StatusTooManyRequests {
		t.Fatalf("the 19th namespace of one key: %d, want 429", status)
	}
	for i := 18; i < 20; i++ {
		if status := post(otherKey, fmt.Sprintf("room-%d", i)); status != 200 {
			t.Fatalf("another key's namespace %d: %d, want 200", i+1, status)
		}
	}
	if status := post(otherKey, "room-20"); status != http.StatusTooManyRequests {
		t.Fatalf("past the app's 20: %d, want 429", status)
	}
}

// TestExchangeAbuseLimits: calls to the exchange are rate limited per key
// like credentials, and one key cannot take all of its app's namespaces.
func TestExchangeAbuseLimits(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Exchange = turnkit.ExchangeConfig{MaxNamespacesPerApp: 100, MaxNamespacesPerKey: 10,
			RateLimits: turnkit.RateLimits{PerKey: 5, PerKeyBurst: 30, PerApp: -1}}
	})
	ctx := context.Background()
	otherID, otherKey, err := tk.AddKey(ctx, tk.app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = otherID
	post := func(key, ns string) (int, string) {
		status, res := tk.do(http.MethodPost, "/v1/exchange", strings.NewReader(
			fmt.Sprintf(`{"key": %q, "namespace": %q, "my_transport_address": "198.51.100.1:5000"}`, key, ns)), nil)
		return status, res.Detail
	}
	for i := range 10 {
		if status, detail := post(tk.app.Key, fmt.Sprintf("room-%d", i)); status != 200 {
			t.Fatalf("namespace %d: %d %s", i, status, detail)
		}
	}
	if status, detail := post(tk.app.Key, "room-10"); status != http.StatusTooManyRequests || !strings.Contains(detail, "API key") {
		t.Fatalf("eleventh namespace of one key: %d %q, want 429 naming the key's bound", status, detail)
	}
	if status, detail := post(otherKey, "room-10"); status != 200 {
		t.Fatalf("another key of the same app: %d %s, want 200", status, detail)
	}
	// Publishing again in a namespace the key is in is not a new one.
	if status, detail := post(tk.app.Key, "room-3"); status != 200 {
		t.Fatalf("refresh in an existing namespace: %d %s", status, detail)
	}
	// The call rate: the burst of 30 is spent (13 calls so far by this
	// key); the next ones get 429 until the clock moves.
	limited := 0
	for range 30 {
		if status, _ := post(tk.app.Key, "room-3"); status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatalf("43 calls at once with a burst of 30: none rate limited")
	}
	tk.clock.Advance(time.Second)
	if status, detail := post(tk.app.Key, "room-3"); status != 200 {
		t.Fatalf("a second later: %d %s", status, detail)
	}
	// In-process calls by app ID are not rate limited unless they ask.
	for range 100 {
		if _, err := tk.Exchange().Do(ctx, turnkit.ExchangeRequest{AppID: tk.app.App.ID, Namespace: "room-3",
			Publish: netip.MustParseAddrPort("198.51.100.9:9")}); err != nil {
			t.Fatalf("in-process call: %v", err)
		}
	}
}
