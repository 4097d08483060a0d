// Package turnkit gives a Go program what hosted TURN services sell, inside
// its own process: a TURN relay, HTTP handlers that mint short-lived TURN
// credentials, relay selection by location, health and load, gateways that
// pin a room to one relay, a peer-address exchange, and a billing ledger
// that meters relayed bytes — on one SQLite file by default, or on a
// database many nodes share.
//
// # A web app
//
// Open a Kit and mount its handler next to your own routes:
//
//	kit, err := turnkit.Open(ctx, turnkit.Config{DBPath: "turnkit.db"})
//	...
//	mux.Handle("/v1/", kit.Handler())
//
// POST /v1/credentials answers {"key": "..."} with a username, a credential
// and the relay's URLs, an object a browser takes as an RTCIceServer as is.
// The username is "{expiry_unix}:{app_id}_{key_id}.{nonce}" (plus optional
// fields, see relay.Username) and the credential
// base64(HMAC-SHA1(secret, username)), the TURN REST API form, so a coturn
// relay started with the same static-auth-secret accepts it too. A Go
// handler of your own can skip HTTP: kit.Issuer().Issue mints for an app ID.
//
// # The five types
//
// Kit is wiring only; each part stands on its own, with a constructor over
// the narrow store interfaces it uses:
//
//   - Issuer (NewIssuer): Authenticate turns an API key into a Caller; Issue
//     checks the app, the rate limits and the balance, chooses the relay
//     (a RelayChooser) and signs the credential with the KeyRing.
//   - GatewayStore (NewGatewayStore): signed, never-expiring gateway IDs
//     that keep the members of a room on the relay where it has a session.
//   - Exchange (NewExchange): namespaced peer transport addresses with
//     inactivity expiry, in memory or shared through the store.
//   - Ledger (NewLedger): two-bucket balances, reserves at issuance, usage
//     charged exactly once per (session, sequence number), top-ups.
//   - relay.Server (package relay): the TURN relay itself, which a game
//     server can embed alone.
//
// KeyRing (NewKeyRing) holds the relay secrets that sign credentials, with
// rotation and overlap.
//
// # A game server
//
// A game server that needs only the relay imports package relay, which
// links no storage; with a GatewayStore it pins each match to one relay
// (see examples/gameserver).
package turnkit
