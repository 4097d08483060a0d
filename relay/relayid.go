package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
)

// derivedID is the relay's ID when Config.ID is empty: "relay-" and 10 hex
// digits of a SHA-256 over the host name, RelayIP and the listeners' bound
// addresses (actual ports), sorted. Two relays running at once cannot bind
// the same addresses, so their IDs differ; a relay restarted on the same
// host, addresses and ports gets its ID back. Called once the listeners
// are bound.
func (s *Server) derivedID() string {
	host, _ := os.Hostname()
	var addrs []string
	for _, pc := range s.packetConns {
		addrs = append(addrs, "udp "+pc.LocalAddr().String())
	}
	for _, ln := range s.listeners {
		addrs = append(addrs, "tcp "+ln.Addr().String())
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs) // sockets sharing a port (SO_REUSEPORT) count once
	parts := append([]string{host, s.cfg.RelayIP.String()}, addrs...)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "relay-" + hex.EncodeToString(sum[:5])
}
