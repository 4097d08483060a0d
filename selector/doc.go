// Package selector chooses the relay for a new TURN session: the nearest
// healthy relay to the client by great-circle distance, with relays within
// a tie distance of the nearest split by load, and region rules on top
// (enabled regions per app, a fixed region, a preferred one).
//
// Locations come from a Locator; GeoIP is the implementation on a MaxMind
// City database. Without a Locator, or for a client IP the database does not
// place (private addresses, for one), selection falls back to regions and
// load alone: the least loaded healthy relay wins.
//
// Client IPs are used for the lookup and then dropped: the package keeps no
// cache keyed by IP and logs nothing. It imports neither turnkit's root
// package nor its relay.
package selector
