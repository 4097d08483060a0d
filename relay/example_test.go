package relay_test

import (
	"fmt"
	"time"

	"github.com/turnkit/turnkit/relay"
)

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
