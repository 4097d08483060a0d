package turnkit_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// TestRestartKeepsState: apps, keys and the relay secret survive a restart
// on the same SQLite file, so a credential minted before the restart
// allocates after it.
func TestRestartKeepsState(t *testing.T) {
	tk := newTestKit(t, allowEcho)
	peer := turntest.Echo(t, echoIP)
	before := tk.credentials("")
	keyID, _ := tk.KeyRing().Current()

	tk.close()
	tk.open(allowEcho)

	if id, _ := tk.KeyRing().Current(); id != keyID {
		t.Fatalf("signing key after restart %s, want %s", id, keyID)
	}
	app, err := tk.App(context.Background(), tk.app.App.ID)
	if err != nil || app.Name != "test" {
		t.Fatalf("app after restart: %+v, %v", app, err)
	}
	after := tk.credentials("") // the key still works
	for _, cred := range []credResponse{before, after} {
		c := tk.dialTURN("udp", cred.Username, cred.Credential)
		rc, err := c.allocate()
		if err != nil {
			t.Fatalf("Allocate with %s: %v", cred.Username, err)
		}
		roundTrip(t, rc, peer, []byte("after restart"))
	}
}

// TestSuppliedSecret: a secret given in the config signs credentials, the
// credential verifies with it directly (as coturn's static-auth-secret
// would), and reopening with the same secret does not rotate.
func TestSuppliedSecret(t *testing.T) {
	const secret = "a shared relay secret of some length"
	withSecret := func(c *turnkitConfig) { c.RelaySecret = secret }
	tk := newTestKit(t, withSecret)
	cred := tk.credentials("")
	if got := relay.Credential([]byte(secret), cred.Username); got != cred.Credential {
		t.Fatalf("credential %q, want HMAC under the supplied secret %q", cred.Credential, got)
	}
	id, _ := tk.KeyRing().Current()
	tk.close()
	tk.open(withSecret)
	if id2, _ := tk.KeyRing().Current(); id2 != id {
		t.Fatalf("reopening with the same secret changed the key ID %s → %s", id, id2)
	}
	status, _ := tk.post(`{"key": "` + tk.app.Key + `"}`)
	if status != http.StatusOK {
		t.Fatalf("status %d after reopen", status)
	}
}
