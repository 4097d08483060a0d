// Package relay is turnkit's TURN relay (RFC 8656, on pion/turn), usable on
// its own: a game server that imports only relay runs a TURN server in its
// own process and mints the credentials for it itself, with no database
// and no HTTP API. turnkit's root package runs the same Server for web
// apps, with its key ring, admission of apps and billing plugged in.
//
// # The smallest embedding
//
// New starts a Server from a Config; Close stops it. A secret shared by the
// relay and the code that mints credentials is all the configuration a
// game server needs (see StaticSecrets):
//
//	secret := []byte("a long random secret, kept by the game server")
//	srv, err := relay.New(relay.Config{
//		UDPAddrs: []string{"0.0.0.0:3478"},
//		TCPAddrs: []string{"0.0.0.0:3478"},
//		RelayIP:  netip.MustParseAddr("203.0.113.7"), // the address peers reach
//		Secrets:  relay.NewStaticSecrets("k1", secret),
//	})
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//
//	// For each player of a match: a credential valid for ten minutes.
//	username := relay.Username{
//		Expires: time.Now().Add(10 * time.Minute),
//		AppID:   "match42",                             // attributes the session
//		KeyID:   "k1",                                  // names the secret
//		Nonce:   strconv.FormatUint(rand.Uint64(), 36), // makes it unique
//	}.String()
//	password := relay.Credential(secret, username)
//	// The client's RTCIceServer: {urls: srv.URLs(), username, credential: password}.
//
// With no address at all, the relay listens on UDP and TCP 127.0.0.1:3478.
// The credentials are those of the TURN REST API that coturn's
// static-auth-secret also accepts.
//
// # What a Server does
//
// Authentication: by default, every request's username is parsed as a
// Username and verified with the secret its key ID names (Secrets,
// StaticSecrets, Credential, NewRESTAuthenticator). Config.Authenticator
// replaces that with any lookup of a password and an Identity; an Admitter
// refuses the apps that may not allocate now (paused, revoked key).
//
// Admission: an unauthenticated source gets its 401 challenge at once, but
// never more bytes than a small multiple of what it sent
// (Config.AmplificationFactor), so the relay cannot be used to reflect a
// flood; TCP and TLS connections that hold no allocation are capped and
// timed out.
//
// Peers: the relay refuses to reach loopback, private, link-local and other
// special-purpose addresses, in all their IPv4 and IPv6 forms, unless
// Config.AllowPeers lets it (PeerPolicy).
//
// Limits: allocations per username, per app and per relay, permissions and
// channels per allocation, and a bit rate per allocation.
//
// Sessions and metering: each allocation is a session; a Sink receives its
// start, its relayed bytes as usage deltas numbered for exactly-once
// accounting, and its end. Server.Sessions lists the live ones and
// Server.EndSessions ends them on demand.
//
// Sockets: the relay opens its listeners from addresses, or serves sockets
// the caller opened (Config.PacketConns, Listeners, TLSListeners), and
// closes them at Close. Server.URLs gives the stun:, turn: and turns: URLs
// to hand to clients.
//
// Data path: on Linux each UDP address gets one SO_REUSEPORT socket per
// core (Config.UDPSocketsPerAddr), read in batches of datagrams
// (Config.UDPReadBatch), and the relay forwards ChannelData on bound
// channels itself, both ways, without pion's per-datagram allocations and
// locks (Config.DisableFastPath); the per-packet checks (peer rules,
// bitrate cap, metering) allocate nothing and take no lock.
//
// Logs go to a log/slog logger, with every client and peer address
// redacted.
package relay
