package turnkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// FuzzGatewayID: Resolve never panics; it accepts no ID it did not sign
// (the fuzzer cannot forge an HMAC, so anything it accepts came from
// Create); and every ID Create makes resolves to its app and relay.
func FuzzGatewayID(f *testing.F) {
	g, err := turnkit.NewGatewayStore(context.Background(), turnkit.GatewayStoreConfig{Key: []byte("fuzz gateway key 0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	first, _ := g.Create("app1", "relay-1")
	f.Add("gw1.AAA.BBB", "app1", "relay-1")
	f.Add(first, "a", "r")
	f.Add("", "x-y", "r\x00s")
	f.Fuzz(func(t *testing.T, id, app, relayID string) {
		if gw, err := g.Resolve(id); err == nil {
			if !strings.HasPrefix(id, "gw1.") || !relay.ValidAppID(gw.AppID) || gw.ID != id || len(gw.Tag) != 20 {
				t.Fatalf("Resolve accepted %q as %+v", id, gw)
			}
		}
		if !relay.ValidAppID(app) || relayID == "" || len(relayID) > 200 {
			return
		}
		enc, err := g.Create(app, relayID)
		if err != nil {
			t.Fatalf("Create(%q, %q): %v", app, relayID, err)
		}
		gw, err := g.Resolve(enc)
		if err != nil || gw.AppID != app || gw.RelayID != relayID {
			t.Fatalf("Create(%q, %q) = %q resolves to %+v, %v", app, relayID, enc, gw, err)
		}
	})
}
