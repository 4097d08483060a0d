package turnkit_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// exampleStore opens a SQLite store in a temporary directory; the returned
// func removes both.
func exampleStore() (*sqlite.Store, func()) {
	dir, _ := os.MkdirTemp("", "turnkit-example")
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "turnkit.db"))
	if err != nil {
		panic(err)
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }
}

// An Issuer on its own: a store for apps and keys, a key ring, and the
// relays to send clients to — here a coturn sharing the ring's secret.
func ExampleNewIssuer() {
	st, done := exampleStore()
	defer done()
	ctx := context.Background()
	ring, _ := turnkit.NewKeyRing(ctx, turnkit.KeyRingConfig{Store: st})
	_, _ = ring.EnsureSecret(ctx, []byte("the static-auth-secret coturn has"))
	_ = st.CreateApp(ctx, store.App{ID: "shop", Status: store.AppActive})

	is, err := turnkit.NewIssuer(turnkit.IssuerConfig{
		Store:   st,
		KeyRing: ring,
		Relays:  turnkit.StaticRelays{{ID: "coturn-1", Region: "eu", URLs: []string{"turn:turn.example.com:3478"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	cred, err := is.Issue(ctx, &turnkit.CredentialRequest{AppID: "shop", TTL: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := relay.ParseUsername(cred.Username)
	fmt.Println(cred.RelayID, cred.URLs[0], cred.TTL, u.AppID)
	// Output:
	// coturn-1 turn:turn.example.com:3478 1h0m0s shop
}

// A GatewayStore with a key of its own and no store: IDs are signed, carry
// the app and the relay, and a tampered one is refused.
func ExampleNewGatewayStore() {
	g, err := turnkit.NewGatewayStore(context.Background(), turnkit.GatewayStoreConfig{
		Key: []byte("a 32-byte or longer gateway signing key"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	id, _ := g.Create("game", "relay-eu-1")
	gw, err := g.Resolve(id)
	fmt.Println(gw.AppID, gw.RelayID, len(gw.Tag), err)
	_, err = g.Resolve(id[:len(id)-2] + "xx")
	fmt.Println(turnkit.HTTPStatus(err))
	// Output:
	// game relay-eu-1 20 <nil>
	// 400
}

// An Exchange in memory: two peers of a room find each other's address.
func ExampleNewExchange() {
	x, err := turnkit.NewExchange(turnkit.ExchangeConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	alice := netip.MustParseAddrPort("198.51.100.1:40000")
	bob := netip.MustParseAddrPort("198.51.100.2:50000")
	_, _ = x.Do(ctx, turnkit.ExchangeRequest{AppID: "game", Namespace: "room-7", Publish: alice})
	peers, _ := x.Do(ctx, turnkit.ExchangeRequest{AppID: "game", Namespace: "room-7", Publish: bob})
	fmt.Println(peers)
	// Output:
	// [198.51.100.1:40000]
}

// A Ledger on its own: a top-up applies once per reference, and usage is
// charged once per (session, sequence number), subscription first.
func ExampleNewLedger() {
	st, done := exampleStore()
	defer done()
	ctx := context.Background()
	l, err := turnkit.NewLedger(turnkit.LedgerConfig{Store: st})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = l.SetPlan(ctx, "shop", 2*turnkit.GB)
	first, _ := l.TopUp(ctx, "shop", 5*turnkit.GB, "payment-1")
	again, _ := l.TopUp(ctx, "shop", 5*turnkit.GB, "payment-1")
	_, _ = l.Charge(ctx, store.Usage{SessionID: "s1", Seq: 1, AppID: "shop", ToPeer: turnkit.GB, ToClient: 2 * turnkit.GB})
	_, _ = l.Charge(ctx, store.Usage{SessionID: "s1", Seq: 1, AppID: "shop", ToPeer: turnkit.GB, ToClient: 2 * turnkit.GB})
	b, _ := l.Balance(ctx, "shop")
	fmt.Println(first, again, b.Subscription/turnkit.GB, b.PAYG/turnkit.GB)
	// Output:
	// true false 0 4
}

// A KeyRing: rotation keeps the previous secret verifying for the overlap.
func ExampleNewKeyRing() {
	st, done := exampleStore()
	defer done()
	ctx := context.Background()
	ring, err := turnkit.NewKeyRing(ctx, turnkit.KeyRingConfig{Store: st, Overlap: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	old, _ := ring.EnsureSecret(ctx, nil)
	next, _ := ring.Rotate(ctx, nil)
	cur, _ := ring.Current()
	_, oldVerifies := ring.Secret(old, time.Now())
	_, oldLater := ring.Secret(old, time.Now().Add(2*time.Hour))
	fmt.Println(cur == next, oldVerifies, oldLater)
	// Output:
	// true true false
}
