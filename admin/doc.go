// Package admin is turnkit's admin JSON API and its usage dashboard, in
// one http.Handler: apps and their API keys, balances and top-ups, usage
// by hour from the ledger journal, live sessions, the fleet's relays, and
// persistent TURN credentials. turnkit's Kit serves it with
// kit.AdminHandler(), to mount at /admin/:
//
//	mux.Handle("/admin/", kit.AdminHandler())
//
// The package does not import turnkit: it declares the small interfaces it
// needs (Apps, Keys, Billing, Sessions, Fleet, StaticCredentials, Errors,
// Limiter), and turnkit implements them on its Kit. A program may build a
// Handler on its own implementations with New.
//
// # The admin token
//
// Every request to the JSON API carries the admin token as
// "Authorization: Bearer <token>"; it is hashed and compared with
// Config.TokenHash in constant time. Without it, or with a wrong one, the
// answer is 401 with WWW-Authenticate. There are no cookies, so no
// cross-site request can carry the token (and no CSRF defence is needed);
// the API sets no CORS header, so no other origin can read an answer. A
// query string that names a credential-like parameter (token, key,
// access_token, …) is refused with 400 on every path, page included, so
// that a token never ends up in a URL, a log or a history. With a Limiter,
// a source that sends many wrong tokens gets 429 with Retry-After for a
// while, whatever it sends.
//
// With no token configured (the zero TokenHash), the handler serves
// nothing: every request, the page's included, gets 503 and a detail that
// says so.
//
// # The JSON API
//
// Paths are under Prefix+"api/" (/admin/api/ by default):
//
//	GET    apps?limit&after                       {"apps": [app], "next"}
//	POST   apps {"id", "name"}                    201 {"app": app, "key": key with "key"}
//	GET    apps/{app}                             app
//	PUT    apps/{app}/status {"status"}           app   ("active", "paused", "deleting")
//	PUT    apps/{app}/regions {"regions": [..]}   app   ([] enables every region)
//	GET    apps/{app}/keys?limit&after            {"keys": [key], "next"}
//	POST   apps/{app}/keys                        201 key with "key" (shown this once)
//	DELETE apps/{app}/keys/{key}                  key (revoked)
//	GET    apps/{app}/balance                     balance
//	POST   apps/{app}/topups {"bytes", "reference"}  201 {"applied": true, …} or 200 {"applied": false, …}
//	GET    apps/{app}/usage?from&to               usage
//	GET    apps/{app}/sessions?limit&after        {"sessions": [session], "next"}
//	GET    apps/{app}/credentials?limit&after     {"credentials": [credential], "next"}
//	POST   apps/{app}/credentials {"label", "expires_at"}  201 credential with "apiKey" and "iceServers"
//	GET    apps/{app}/credentials/{username}      credential with "iceServers"
//	DELETE apps/{app}/credentials/{username}      {"username", "deleted": true}
//	GET    sessions?app&limit&after               {"sessions": [session], "next"}
//	GET    relays?limit&after                     {"relays": [relay], "next"}
//	PUT    relays/{relay}/draining {"draining"}   relay
//
// The shapes (times are RFC 3339 in UTC, null when not set; amounts are
// integer bytes):
//
//	app      {"id", "name", "status", "created_at", "regions": []}
//	key      {"id", "created_at", "revoked_at"}
//	balance  {"app_id", "subscription", "payg", "total", "allowance", "period_start",
//	          "low_threshold", "low_notified"}
//	usage    {"app_id", "from", "to", "step_seconds": 3600, "total",
//	          "buckets": [{"start", "bytes"}]}
//	session  {"id", "app_id", "relay_id", "gateway", "key_id",
//	          "metadata": {"room", "initiator", "receiver"}, "transport",
//	          "started_at", "to_peer", "to_client", "in_process"}
//	relay    {"id", "region", "allocations", "capacity", "bitrate",
//	          "health": "healthy" | "offline" | "dead", "draining", "reported_at", "in_process"}
//	credential {"username", "label", "created_at", "expires_at"}
//
// No answer holds a client or peer address, a session's TURN username or
// an API key, except the key of a key just made (and the front-end apiKey
// of a persistent credential just made), which is never shown again.
//
// Usage is the ledger journal's "usage" entries, -(Subscription+PAYG)
// bytes each, summed by the UTC hour their time falls in, one bucket per
// hour of [from, to) with zeros where there was none. from (RFC 3339) is
// rounded down to its hour and to up to its; they default to the 24 hours
// that end with the current one, and span 1 to MaxUsageHours (744) hours.
//
// A live session's bytes are those relayed so far each way: up to the
// moment for a session of this process's relay ("in_process": true), as
// last charged for the other relays of the fleet.
//
// A top-up applies once per reference (the payment's ID): the first
// request answers 201 with "applied": true; the same reference again
// changes nothing, whatever its amount, and answers 200 with "applied":
// false. Both carry the balance after.
//
// # Lists
//
// Every list is paged: limit is 1 to MaxLimit (500), DefaultLimit (50)
// when absent; a larger, smaller or malformed one gets 400. An answer's
// "next" is an opaque cursor to pass as after for the next page, or null
// on the last page. A cursor of another list gets 400.
//
// # Input and errors
//
// Input is strict, as on turnkit's public endpoints: JSON bodies (of type
// application/json, or none) with exactly the documented member names,
// each once, of the documented types (integers as JSON integers), and
// nothing after; bodies over Config.MaxBodyBytes (4 KiB) get 413; a query
// parameter that the endpoint does not take, or that is repeated, gets
// 400, and so does any query string on a request that takes none. A wrong
// method gets 405 with Allow. Every error is {"detail": "…"}, with the
// status Config.Errors gives (turnkit.HTTPStatus; 404 for an unknown app,
// key, relay, credential or path; 409 for an app ID that is taken).
//
// # The dashboard
//
// Prefix itself serves the dashboard: a page of apps and the fleet's
// relays, and a page per app (#app=<id>) with its balance, its usage by
// hour as a chart (uPlot, vendored under static/vendor/ with its MIT
// license), its live sessions, the relays and its API keys. It is plain
// HTML, CSS and JavaScript embedded in the binary: nothing to build. The
// page and its files need no token (they hold no data); the page asks the
// API with the token it gets from the URL fragment
// (/admin/#token=<token>), which browsers never send to a server: it keeps
// it in the tab's session storage, takes it out of the address bar, and
// sends it only as the Bearer header. Values are put in the page as text,
// never as markup, and the page runs under a Content-Security-Policy that
// allows only its own scripts, styles and API (script-src 'self', no
// inline script or style, no frames).
package admin
