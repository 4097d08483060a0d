package turnkit

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"

	"github.com/turnkit/turnkit/relay"
)

// stableRelayID derives the in-process relay's ID from the host name and
// the configured listener addresses, so a restarted process on the same
// host and addresses is the same relay (and closes the sessions its
// predecessor left open), while relays on other hosts or addresses differ.
// Set relay.Config.ID to choose it yourself.
func stableRelayID(c relay.Config) string {
	host, _ := os.Hostname()
	parts := append([]string{host}, c.UDPAddrs...)
	parts = append(parts, c.TCPAddrs...)
	parts = append(parts, c.TLSAddrs...)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "relay-" + hex.EncodeToString(sum[:5])
}
