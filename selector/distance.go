package selector

import "math"

// earthRadiusKm is the mean radius of the Earth (IUGG).
const earthRadiusKm = 6371.0088

// DistanceKm returns the great-circle distance between a and b in
// kilometres, by the haversine formula on a sphere of the Earth's mean
// radius. It does not check that the locations are valid.
func DistanceKm(a, b Location) float64 {
	return angleKm(newOrigin(a).hav(b))
}

// origin is a point prepared for many haversine terms against it: its
// latitude in radians and the cosine of it are computed once.
type origin struct {
	lat, lon, cosLat float64 // radians
}

func newOrigin(l Location) origin {
	lat := l.Lat * degToRad
	return origin{lat: lat, lon: l.Lon * degToRad, cosLat: math.Cos(lat)}
}

// hav returns the haversine term h = sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2)
// between o and l. It grows with the distance (d = 2R·asin √h), so the
// selector compares h and takes one arcsine per selection, not one per
// relay.
func (o origin) hav(l Location) float64 {
	return o.havWithin(l, math.Inf(1))
}

// havWithin is hav, cut short: when the latitude term alone exceeds limit,
// the relay cannot be within it, and havWithin returns that partial term
// (still greater than limit) without the other two trigonometric calls.
func (o origin) havWithin(l Location, limit float64) float64 {
	lat := l.Lat * degToRad
	sLat := math.Sin((lat - o.lat) / 2)
	h := sLat * sLat
	if h > limit {
		return h
	}
	sLon := math.Sin((l.Lon*degToRad - o.lon) / 2)
	return h + o.cosLat*math.Cos(lat)*sLon*sLon
}

// angleKm converts a haversine term to kilometres.
func angleKm(h float64) float64 {
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(1, max(0, h))))
}

// kmToHav converts a distance in kilometres to the haversine term of the
// same angle. Distances of half the circumference or more give 1, the
// largest term there is.
func kmToHav(km float64) float64 {
	half := km / (2 * earthRadiusKm) // half the central angle
	if half >= math.Pi/2 {
		return 1
	}
	s := math.Sin(half)
	return s * s
}
