// Package selector chooses the relay for a new TURN session: the nearest
// healthy relay to the client, with relays about as near split by load,
// under per-request region rules.
//
// # Choosing
//
// [Selector.Select] takes a [Request] and the [Candidate] relays the caller
// knows of, and applies, in order:
//
//  1. Health. Draining relays, offline relays (no report for
//     Config.OfflineAfter, 15 s by default) and overloaded relays
//     (allocations at or over Capacity × Config.OverloadRatio) are out.
//  2. Regions. Only relays in the request's EnabledRegions (all when
//     empty). A FixedRegion restricts the choice to that region and fails
//     with [ErrRegionUnavailable] when it has no healthy relay; a
//     PreferredRegion is used when it has one and otherwise falls back to
//     every enabled region. FixedRegions and PreferredRegions are the same
//     rules for a set of regions. Naming a region outside EnabledRegions
//     (or a set with none inside it) is [ErrRegionNotEnabled].
//  3. Distance. The client IP is placed by the [Locator]; the nearest relay
//     by great-circle (haversine) distance sets a tie band of
//     Config.TieDistanceKm (500 km by default), and relays outside it, or
//     without a location, are out.
//  4. Load. The lowest Allocations/Capacity wins among the tied relays,
//     then the lowest Bitrate, then the lowest ID: the choice is the same
//     whatever the order of the candidates.
//
// No relay left at all is [ErrNoRelay]. Select sorts nothing: it makes two
// passes over the candidates and allocates nothing of its own.
//
// # Region aliases
//
// [Aliases] maps the region slugs clients send (vendors' names such as
// Metered's "europe" or Baton's "eu-central") to relay regions: one, a set
// for Request.FixedRegions or Request.PreferredRegions, or any region.
// [NewAliases] holds a default table that knows every slug of the vendors'
// documents; a slug it does not know is the caller's 400.
//
// # Without a GeoIP database
//
// The Locator is optional. Without one (a nil Config.Locator), and for any
// client IP it cannot place — the zero netip.Addr, a private, loopback or
// link-local address, an address missing from the database or a record
// without coordinates — step 3 is skipped: every healthy relay in the
// allowed regions is tied, and the least loaded wins. Region rules and
// health apply exactly as with GeoIP. Relays then need no location.
//
// # GeoIP
//
// [GeoIP] is the Locator on a MaxMind City database (GeoLite2-City or
// GeoIP2-City, through github.com/oschwald/geoip2-golang/v2), opened with
// [OpenGeoIP] from a path the embedder provides; turnkit downloads and
// updates nothing. IPv4-mapped IPv6 addresses are looked up as IPv4.
//
// # Privacy
//
// Client IPs are used for the lookup and then dropped: the package keeps no
// cache keyed by IP, logs nothing, and its errors never contain the IP.
//
// # Dependencies
//
// The package imports the standard library and geoip2-golang only: neither
// turnkit's root package nor its relay package, so a caller can choose
// relays without linking either. It starts no goroutines and has no
// package-level state.
package selector
