package selector

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"
)

// GeoIP is a Locator on a MaxMind GeoIP2 or GeoLite2 City database.
type GeoIP struct {
	db *geoip2.Reader
}

var _ Locator = (*GeoIP)(nil)

// OpenGeoIP opens the City database at path.
func OpenGeoIP(path string) (*GeoIP, error) {
	db, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("selector: open GeoIP database %s: %w", path, err)
	}
	return &GeoIP{db: db}, nil
}

// Locate returns the coordinates the database has for ip. Addresses the
// database does not cover, or records without coordinates, are not found.
func (g *GeoIP) Locate(ip netip.Addr) (Location, bool) {
	if !ip.IsValid() {
		return Location{}, false
	}
	rec, err := g.db.City(ip.Unmap())
	if err != nil || rec == nil || !rec.Location.HasCoordinates() {
		return Location{}, false
	}
	return Location{Lat: *rec.Location.Latitude, Lon: *rec.Location.Longitude, Country: rec.Country.ISOCode}, true
}

// Close closes the database.
func (g *GeoIP) Close() error { return g.db.Close() }
