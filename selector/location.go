package selector

import (
	"math"
	"net/netip"
)

// Location is a point on Earth in degrees, with the ISO 3166-1 alpha-2
// country code when it is known. The zero Location is a valid point (0° N,
// 0° E): whether a location is known is carried beside it, as in
// [Candidate.HasLocation] or the bool that [Locator.Locate] returns.
type Location struct {
	// Lat is the latitude in degrees, north positive, within ±90.
	Lat float64
	// Lon is the longitude in degrees, east positive, within ±180.
	Lon float64
	// Country is the ISO country code, such as "DE", or empty when unknown.
	// Selection does not use it; it is there for callers and logs.
	Country string
}

// Valid reports whether l is a point on Earth: finite coordinates with the
// latitude within ±90 and the longitude within ±180 degrees. Selection
// treats a relay with an invalid location as a relay without one.
func (l Location) Valid() bool {
	return l.Lat >= -90 && l.Lat <= 90 && l.Lon >= -180 && l.Lon <= 180 // NaN fails every comparison
}

// Locator places IP addresses on Earth.
//
// Locate returns where ip is, or false when it cannot tell: an address the
// source does not cover, a record without coordinates, a lookup error, or
// an address that is not publicly routable. Locate must not panic on any
// input, including the zero netip.Addr.
//
// Implementations must be safe for concurrent use, and must not keep, cache
// or log the addresses they are asked about: client IPs are used for the
// lookup and then dropped.
type Locator interface {
	Locate(ip netip.Addr) (Location, bool)
}

// routable reports whether ip can be placed: a valid global unicast
// address outside the private ranges. Loopback, link-local, multicast,
// unspecified and private (RFC 1918, RFC 4193) addresses cannot.
func routable(ip netip.Addr) bool {
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate()
}

// degToRad converts degrees to radians.
const degToRad = math.Pi / 180
