package selector

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/geoip2-golang/v2"
)

// GeoIP is a [Locator] on a MaxMind GeoIP2 or GeoLite2 City database (or a
// compatible one: DB-IP City or Location, GeoIP2 Enterprise, or a database
// of one's own built with mmdbwriter under a City type name).
//
// Locate is safe for concurrent use and keeps nothing of the addresses it
// looks up. Close must not be called while Locate may still run; after
// Close, Locate finds nothing.
type GeoIP struct {
	db *geoip2.Reader
}

var _ Locator = (*GeoIP)(nil)

// OpenGeoIP opens the City database at path, memory-mapped. It refuses a
// database that cannot place addresses: an unknown type, a type without
// City records (ASN, ISP, Domain, Anonymous IP…) and a Country database,
// whose records carry no coordinates. With any of these every lookup would
// find nothing and selection would silently fall back to load; the error
// surfaces the mistake at start-up instead.
//
// The caller owns the GeoIP and closes it when no Selector uses it any more.
func OpenGeoIP(path string) (*GeoIP, error) {
	db, err := geoip2.Open(path)
	if err != nil {
		if db != nil { // geoip2.Open returns an open reader with an unknown-type error
			_ = db.Close()
		}
		return nil, fmt.Errorf("selector: open GeoIP database %s: %w", path, err)
	}
	typ := db.Metadata().DatabaseType
	// City is defined on every database type geoip2 can decode a City
	// record from; it reports InvalidMethodError for the others whatever
	// the address, so probing with the unspecified one tells the type.
	_, err = db.City(netip.IPv6Unspecified())
	var invalid geoip2.InvalidMethodError
	if errors.As(err, &invalid) || strings.Contains(typ, "Country") {
		_ = db.Close()
		return nil, fmt.Errorf("selector: open GeoIP database %s: type %q has no coordinates: use a City database (GeoLite2-City or GeoIP2-City)", path, typ)
	}
	return &GeoIP{db: db}, nil
}

// Locate returns the coordinates and country the database has for ip. An
// IPv4-mapped IPv6 address is looked up as the IPv4 address and a zone is
// ignored. Addresses that are not publicly routable (private, loopback,
// link-local, multicast, unspecified, the zero Addr) are not looked up and
// are not found; neither are addresses the database does not cover, records
// without both coordinates or with coordinates off the globe, and lookups
// that fail.
func (g *GeoIP) Locate(ip netip.Addr) (Location, bool) {
	ip = ip.Unmap()
	if !routable(ip) {
		return Location{}, false
	}
	rec, err := g.db.City(ip)
	if err != nil || rec == nil || !rec.Location.HasCoordinates() {
		return Location{}, false
	}
	loc := Location{Lat: *rec.Location.Latitude, Lon: *rec.Location.Longitude, Country: rec.Country.ISOCode}
	if !loc.Valid() {
		return Location{}, false
	}
	return loc, true
}

// Close unmaps the database.
func (g *GeoIP) Close() error {
	if err := g.db.Close(); err != nil {
		return fmt.Errorf("selector: close GeoIP database: %w", err)
	}
	return nil
}
