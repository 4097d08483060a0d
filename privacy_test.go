package turnkit_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
)

// syncBuffer is a bytes.Buffer safe for the relay's goroutines to log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoAddressesInLogsOrStore runs a session, a refused peer and a bad
// credential with logging at its most verbose, then checks that neither the
// logs nor the SQLite files hold any client or peer address, nor the API
// key or the relay secret.
func TestNoAddressesInLogsOrStore(t *testing.T) {
	logs := &syncBuffer{}
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

	out := logs.String()
	if !strings.Contains(out, "level=") {
		t.Fatal("no log lines captured: the test would prove nothing")
	}
	addrs := []string{"127.0.0.1", echoIP, "203.0.113.77", peer.String()} // the client is on 127.0.0.1
	for _, f := range append(addrs, tk.app.Key, string(secret)) {
		if strings.Contains(out, f) {
			t.Errorf("logs contain %q:\n%s", f, excerpt(out, f))
		}
	}
	files, _ := filepath.Glob(filepath.Join(tk.dir, "turnkit.db*"))
	if len(files) == 0 {
		t.Fatal("no SQLite files found")
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range addrs {
			if bytes.Contains(raw, []byte(f)) {
				t.Errorf("%s contains %q", filepath.Base(name), f)
			}
		}
		if bytes.Contains(raw, []byte(tk.app.Key)) {
			t.Errorf("%s contains the API key; only its hash may be stored", filepath.Base(name))
		}
	}
}

func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	lo, hi := max(0, i-120), min(len(s), i+len(sub)+120)
	return s[lo:hi]
}
