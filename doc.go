// Package turnkit gives a Go program what hosted TURN services sell, inside
// its own process: a TURN relay, HTTP handlers that mint short-lived TURN
// credentials, apps with API keys, and a key ring of relay secrets, with its
// state in one SQLite file.
//
// A web app opens a Kit and mounts its handler next to its own routes:
//
//	kit, err := turnkit.Open(ctx, turnkit.Config{})
//	...
//	mux.Handle("/v1/", kit.Handler())
//
// POST /v1/credentials answers {"key": "..."} with a username, a credential
// and the relay's URLs, an object a browser takes as an RTCIceServer as is.
// The username is "{expiry_unix}:{app_id}_{key_id}.{nonce}" and the
// credential base64(HMAC-SHA1(secret, username)), the TURN REST API form, so
// a coturn relay started with the same static-auth-secret accepts it too.
//
// A game server that needs only the relay imports package relay alone.
package turnkit
