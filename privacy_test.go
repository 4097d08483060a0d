package turnkit_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
)

// TestNoAddressesInLogsOrStore runs a session, a refused peer and a bad
// credential with logging at its most verbose, then checks that neither the
// logs nor the SQLite files hold any client or peer address, nor the API
// key or the relay secret.
func TestNoAddressesInLogsOrStore(t *testing.T) {
	logs := &turntest.Buffer{}
	verbose := func(c *turnkit.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.Level(-8)}))
		c.Relay.AllowPeers = []string{echoIP}
		// The registry stores the relay's URLs; a host name keeps the
		// relay's own loopback address, which the client shares, out of
		// them, so the file check below stays meaningful.
		c.Relay.PublicHost = "relay.test"
	}
	tk := newTestKit(t, verbose)
	peer := turntest.Echo(t, echoIP)
	refused := newUDPSink(t, "127.0.0.1:0")

	cred := tk.credentials(`"host_ip": "203.0.113.77"`)
	c := tk.dialCred("udp", cred)
	rc, err := c.allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	roundTrip(t, rc, peer, []byte("private"))
	_, _ = rc.WriteTo([]byte("refused"), refused.pc.LocalAddr())
	bad := tk.dialTURN("udp", cred.Username, "wrong password")
	if _, err := bad.allocate(); err == nil {
		t.Fatal("wrong password allocated")
	}
	_, secret := tk.KeyRing().Current()
	tk.close()

	addrs := []string{"127.0.0.1", echoIP, "203.0.113.77", peer.String()} // the client is on 127.0.0.1
	turntest.CheckLogsLack(t, logs.String(), append(addrs, tk.app.Key, string(secret))...)
	// Only the API key's hash may be stored.
	turntest.CheckFilesLack(t, filepath.Join(tk.dir, "turnkit.db*"), append(addrs, tk.app.Key)...)
}
