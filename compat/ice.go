package compat

import "strings"

// iceServer is one RTCIceServer entry with a list of URLs, as Turnix and
// Baton answer them.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// splitURLs parts a relay's URLs into its stun: URLs and its turn: and
// turns: URLs, each in the relay's order.
func splitURLs(urls []string) (stun, turn []string) {
	for _, u := range urls {
		if strings.HasPrefix(u, "stun:") || strings.HasPrefix(u, "stuns:") {
			stun = append(stun, u)
		} else {
			turn = append(turn, u)
		}
	}
	return stun, turn
}
