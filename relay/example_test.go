package relay_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// A game server embeds the relay with a static secret, and mints a
// credential for each player with the same key ID and secret.
func Example() {
	secret := []byte("a long random secret, kept by the game server")
	srv, err := relay.New(relay.Config{
		UDPAddrs: []string{"127.0.0.1:0"}, // port 0: any free port
		TCPAddrs: []string{"127.0.0.1:0"},
		Secrets:  relay.NewStaticSecrets("k1", secret),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	username := relay.Username{
		Expires: time.Now().Add(10 * time.Minute),
		AppID:   "match42",
		KeyID:   "k1",
		Nonce:   "player1",
	}.String()
	password := relay.Credential(secret, username)

	// The client's RTCIceServer is {urls, username, credential}.
	for _, url := range srv.URLs() {
		scheme, rest, _ := strings.Cut(url, ":")
		_, transport, _ := strings.Cut(rest, "?")
		fmt.Println(strings.TrimSpace(scheme + " " + transport))
	}
	fmt.Println(strings.HasSuffix(username, ":match42_k1.player1"), len(password))
	// Output:
	// stun
	// turn transport=udp
	// turn transport=tcp
	// true 28
}

// A relay given no ID derives one from its host and bound ports, so a
// restart on the same ports keeps it.
func ExampleServer_ID() {
	srv, err := relay.New(relay.Config{
		UDPAddrs: []string{"127.0.0.1:0"},
		Secrets:  relay.NewStaticSecrets("k1", []byte("secret")),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	fmt.Println(strings.HasPrefix(srv.ID(), "relay-"), len(srv.ID()))
	// Output: true 16
}

// A game server that lists its live sessions, and ends those of a match
// that is over.
func ExampleServer_EndSessions() {
	srv, err := relay.New(relay.Config{
		UDPAddrs: []string{"127.0.0.1:0"},
		Secrets:  relay.NewStaticSecrets("k1", []byte("secret")),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	for _, s := range srv.Sessions() {
		fmt.Println(s.AppID, s.Transport, s.ToPeer+s.ToClient)
	}
	n := srv.EndSessions(func(ev *relay.SessionEvent) bool { return ev.AppID == "match42" })
	fmt.Println(n, "sessions ended")
	// Output: 0 sessions ended
}

// A game server that embeds only the relay mints credentials itself with
// the secret it gives the relay.
func ExampleCredential() {
	u := relay.Username{Expires: time.Unix(1767225600, 0), AppID: "match42", KeyID: "k1", Nonce: "p1"}
	name := u.String()
	fmt.Println(name)
	fmt.Println(relay.Credential([]byte("shared secret"), name))
	// Output:
	// 1767225600:match42_k1.p1
	// zng2e7vsROc7Q7Msqd2mJ2b50Hg=
}

func ExampleParseUsername() {
	u, err := relay.ParseUsername("1767225600:demo_s1a2b3c4.nonce42")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Expires.UTC().Format(time.RFC3339), u.AppID, u.KeyID)
	_, err = relay.ParseUsername("alice")
	fmt.Println(err)
	// Output:
	// 2026-01-01T00:00:00Z demo s1a2b3c4
	// turnkit: malformed TURN username "alice": no expiry before ':'
}
