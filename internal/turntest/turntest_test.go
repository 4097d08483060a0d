package turntest_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/leakcheck"
	"github.com/turnkit/turnkit/internal/turntest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestEcho: the peer answers each datagram with the same bytes, to the
// sender, from its own address on the IP asked for.
func TestEcho(t *testing.T) {
	peer := turntest.Echo(t, "127.0.0.3")
	if ip := peer.(*net.UDPAddr).IP.String(); ip != "127.0.0.3" {
		t.Fatalf("Echo listens on %s, want 127.0.0.3", peer)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 2048)
	for _, msg := range []string{"one", strings.Repeat("x", 1400)} {
		if _, err := conn.WriteTo([]byte(msg), peer); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, from, err := conn.ReadFrom(buf)
		if err != nil || string(buf[:n]) != msg || from.String() != peer.String() {
			t.Fatalf("echo of %d bytes: %d bytes from %v, %v; want them back from %s", len(msg), n, from, err, peer)
		}
	}
}

// TestStartCoturn: the started turnserver allocates, over UDP and TCP,
// for a TURN REST API credential signed with the secret, relays to a
// loopback peer, and refuses a credential signed with another secret.
func TestStartCoturn(t *testing.T) {
	const secret = "turntest-secret-0123456789"
	c := turntest.StartCoturn(t, turntest.CoturnOptions{Secret: secret})
	peer := turntest.Echo(t, "127.0.0.3")
	user := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + ":turntest"
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			rc, err := turntest.Allocate(t, turntest.Dial(t, network, c.Addr, nil, user, sign(secret, user), "turnkit"))
			if err != nil {
				t.Fatalf("Allocate: %v\nturnserver's output:\n%s", err, c.Output())
			}
			if _, err := rc.WriteTo([]byte("via coturn"), peer); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
			if n, _, err := rc.ReadFrom(buf); err != nil || string(buf[:n]) != "via coturn" {
				t.Fatalf("relayed echo %q, %v; want %q", buf[:n], err, "via coturn")
			}
			if _, err := turntest.Allocate(t, turntest.Dial(t, network, c.Addr, nil, user, sign("other", user), "turnkit")); err == nil {
				t.Error("turnserver allocated for a credential signed with another secret")
			}
		})
	}
	if !strings.Contains(c.Output(), "127.0.0.1") {
		t.Errorf("turnserver's output does not show its listener:\n%s", c.Output())
	}
}

// sign returns the TURN REST API password for user: base64 of its
// HMAC-SHA1 under secret.
func sign(secret, user string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(user))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
