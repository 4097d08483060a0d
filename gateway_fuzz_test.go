package turnkit

import (
	"strings"
	"testing"

	"github.com/turnkit/turnkit/relay"
)

// FuzzGatewayID: the decoder never panics; it accepts no ID it did not sign
// (the fuzzer cannot forge an HMAC, so anything it accepts came from
// encode); and every ID encode makes decodes to its app and relay.
func FuzzGatewayID(f *testing.F) {
	g := &gateways{key: []byte("fuzz gateway key 0123456789abcdef")}
	f.Add("gw1.AAA.BBB", "app1", "relay-1")
	f.Add(g.encode("app1", "relay-1"), "a", "")
	f.Add("", "x-y", "r\x00s")
	f.Fuzz(func(t *testing.T, id, app, relayID string) {
		if a, r, err := g.decode(id); err == nil {
			if !strings.HasPrefix(id, gatewayPrefix) || !relay.ValidAppID(a) {
				t.Fatalf("decode accepted %q as (%q, %q)", id, a, r)
			}
		}
		if !relay.ValidAppID(app) || len(relayID) > 200 {
			return
		}
		enc := g.encode(app, relayID)
		a, r, err := g.decode(enc)
		if err != nil || a != app || r != relayID {
			t.Fatalf("encode(%q, %q) = %q decodes to (%q, %q, %v)", app, relayID, enc, a, r, err)
		}
	})
}
