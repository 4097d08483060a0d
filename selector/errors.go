package selector

import "errors"

// Errors returned by [Selector.Select], wrapped with the region or the
// count of relays; match them with errors.Is. They never carry the client
// IP, so they are safe to log.
//
// The root package maps them to HTTP statuses: ErrNoRelay and
// ErrRegionUnavailable to 503 Service Unavailable (the request is fine, the
// fleet cannot serve it now), ErrRegionNotEnabled to 403 Forbidden (the
// request names a region outside the app's enabled set, as Baton's API
// answers it; a region slug nobody knows is a 400 the root decides before
// selection).
var (
	// ErrNoRelay means no relay in the enabled regions can take a new
	// session: there are none, or every one is offline, overloaded or
	// draining.
	ErrNoRelay = errors.New("turnkit: no healthy relay")

	// ErrRegionUnavailable means the request's fixed region (or set of
	// regions) has no relay that can take a new session. The error names
	// the regions.
	ErrRegionUnavailable = errors.New("turnkit: region unavailable")

	// ErrRegionNotEnabled means the request names a fixed or preferred
	// region that is not in its EnabledRegions, or a set none of whose
	// regions is. The error names the regions.
	ErrRegionNotEnabled = errors.New("turnkit: region not enabled for this app")
)
