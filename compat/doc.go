// Package compat serves the HTTP shapes of hosted TURN vendors on top of
// turnkit, so that a team moving off one changes one URL and none of its
// client code:
//
//   - [Turnix]: POST /credentials/ice with a Bearer token, a JSON or form
//     body (ttl in seconds, default 30; fixed_region, preferred_region;
//     initiator_client, receiver_client and room kept as session
//     metadata), X-TURN-CLIENT-IP; answers {"iceServers": […]}.
//   - [Metered]: GET /api/v1/turn/credentials?apiKey=… (a persistent
//     credential's ICE servers, for front-end code), and with the app's
//     secretKey the creation, listing and deletion of those credentials.
//   - [Baton]: POST /v1/credentials with a Bearer key, ttl in seconds
//     (default 3600) and a region the app must have enabled; answers
//     {username, credential, ttl, region, iceServers}.
//
// Each handler maps the vendor's request onto a small interface — [Issuer]
// for short-lived credentials, [StaticCredentials] for Metered's
// persistent ones — and the answer back onto the vendor's shape, with the
// vendor's error bodies. turnkit's Kit implements the interfaces (the
// Issuer stays the one place where credentials are decided) and mounts
// every handler in Kit.Handler; each can also be mounted alone, from
// Kit.TurnixHandler, Kit.MeteredHandler and Kit.BatonHandler or from
// NewTurnix, NewMetered and NewBaton with a Config of one's own.
//
// # Regions
//
// Clients name regions by the vendor's slugs ("europe", "us_east",
// "eu-central", "singapore"). Config.Aliases (a selector.Aliases) maps each
// slug to relay regions: one, several, or any ("global", "standard"). A
// slug it does not know is a 400 in the vendor's error shape; a fixed
// region without a healthy relay a 503; a region the app may not use a
// 403.
//
// # Errors
//
// Every status comes from Config.Errors, the map turnkit's HTTPStatus
// keeps, the handlers' own refusals included (they wrap Config.Kinds);
// only the body differs: {"error": "…"} for Turnix and Baton, Metered's
// fixed texts ("Please specify API Key", "Invalid API Key") where it has
// them. Client addresses, API keys and secrets are never logged.
//
// # Dependencies
//
// compat imports turnkit's internal/httpx, store (for its records) and
// selector (for the alias table), never the root package, which imports
// compat.
package compat
