package selector

import (
	"math"
	"net/netip"
)

// Location is a point on Earth, in degrees, with the ISO country code when
// known.
type Location struct {
	Lat, Lon float64
	Country  string
}

// Locator places IP addresses. Implementations are safe for concurrent use
// and must not keep the addresses they are asked about.
type Locator interface {
	// Locate returns where ip is, or false if it cannot tell.
	Locate(ip netip.Addr) (Location, bool)
}

// earthRadiusKm is the mean radius of the Earth.
const earthRadiusKm = 6371.0088

// DistanceKm returns the great-circle distance between two locations, by
// the haversine formula.
func DistanceKm(a, b Location) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(1, h)))
}
