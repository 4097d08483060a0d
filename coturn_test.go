package turnkit_test

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

const coturnSecret = "coturn-shared-secret-0123456789"

// TestCoturnAcceptsIssuedCredentials: credentials minted by turnkit's
// Issuer allocate on a coturn turnserver sharing the secret
// (static-auth-secret), so turnkit can front an existing coturn fleet.
func TestCoturnAcceptsIssuedCredentials(t *testing.T) {
	coturn := turntest.StartCoturn(t, turntest.CoturnOptions{Secret: coturnSecret})
	coturnAddr := coturn.Addr

	tk := newTestKit(t, func(c *turnkit.Config) {
		c.NoRelay = true
		c.RelaySecret = coturnSecret
		c.Relays = []turnkit.RelayEndpoint{{ID: "coturn", Region: "local",
			URLs: []string{"turn:" + coturnAddr + "?transport=udp", "turn:" + coturnAddr + "?transport=tcp"}}}
	})
	peer := turntest.Echo(t, echoIP)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			cred := tk.credentials("")
			if cred.Region != "local" || cred.URLs[0] != "turn:"+coturnAddr+"?transport=udp" {
				t.Fatalf("credential points at %v (%s), want the coturn relay", cred.URLs, cred.Region)
			}
			c := dialServer(t, network, coturnAddr, cred.Username, cred.Credential)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			rc, err := c.AllocateWithContext(ctx)
			if err != nil {
				t.Fatalf("Allocate on coturn: %v\ncoturn log:\n%s", err, coturn.Output())
			}
			defer rc.Close()
			roundTrip(t, rc, peer, []byte("through coturn over "+network))

			// And the same credential with a wrong password is refused.
			bad := dialServer(t, network, coturnAddr, cred.Username, relay.Credential([]byte("other secret"), cred.Username))
			ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel2()
			if rc2, err := bad.AllocateWithContext(ctx2); err == nil {
				rc2.Close()
				t.Fatal("coturn accepted a credential signed with another secret")
			}
		})
	}
}

// dialServer connects a pion client to a TURN server over udp or tcp.
func dialServer(t *testing.T, network, addr, user, pass string) *turn.Client {
	t.Helper()
	return turntest.Dial(t, network, addr, nil, user, pass, "turnkit")
}

var lostRe = regexp.MustCompile(`Total lost packets (\d+) \(`)
var sentRe = regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)

// TestUclientThroughRelay: coturn's turnutils_uclient, signing with the
// TURN REST API secret itself (-W), relays through turnkit's relay to
// coturn's turnutils_peer, with zero loss at a modest rate, over UDP and TCP.
func TestUclientThroughRelay(t *testing.T) {
	uclient := turntest.CoturnTool(t, "turnutils_uclient")
	peerTool := turntest.CoturnTool(t, "turnutils_peer")
	peerPort := turntest.FreePort(t)
	turntest.StartProcess(t, peerTool, "-L", echoIP, "-p", strconv.Itoa(peerPort))

	tk := newTestKit(t, allowEcho, func(c *turnkit.Config) { c.RelaySecret = coturnSecret })
	keyID, _ := tk.KeyRing().Current()
	// uclient -W builds "{expiry}:{-u value}" and signs it with the secret:
	// with -u "{app}_{key id}.{nonce}" that is a turnkit username.
	user := tk.app.App.ID + "_" + keyID + ".uclient"
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			port := strconv.Itoa(tk.Relay().UDPAddrs()[0].(*net.UDPAddr).Port)
			args := []string{"-c", "-n", "50", "-m", "2", "-l", "200", "-z", "5",
				"-e", echoIP, "-r", strconv.Itoa(peerPort), "-L", "127.0.0.1",
				"-W", coturnSecret, "-u", user}
			if network == "tcp" {
				port = strconv.Itoa(tk.Relay().TCPAddrs()[0].(*net.TCPAddr).Port)
				args = append([]string{"-t"}, args...)
			}
			args = append(args, "-p", port, "127.0.0.1")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, uclient, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("turnutils_uclient: %v\n%s", err, out)
			}
			lost := lostRe.FindSubmatch(out)
			sent := sentRe.FindAllSubmatch(out, -1)
			if lost == nil || len(sent) == 0 {
				t.Fatalf("turnutils_uclient printed no totals:\n%s", out)
			}
			last := sent[len(sent)-1]
			if string(lost[1]) != "0" || string(last[1]) != "100" || string(last[2]) != "100" {
				t.Fatalf("lost %s, sent %s, received %s; want 0 lost of 100:\n%s", lost[1], last[1], last[2], out)
			}
		})
	}
}
