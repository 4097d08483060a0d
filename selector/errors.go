package selector

import "errors"

// ErrNoRelay is returned when no relay is healthy (or none is in the
// enabled regions). turnkit answers it with 503.
var ErrNoRelay = errors.New("turnkit: no healthy relay")

// ErrRegionUnavailable is returned, wrapped with the region, when a fixed
// region has no healthy relay. turnkit answers it with 503.
var ErrRegionUnavailable = errors.New("turnkit: region unavailable")

// ErrRegionNotEnabled is returned, wrapped with the region, when a request
// names a region the app has not enabled. turnkit answers it with 400.
var ErrRegionNotEnabled = errors.New("turnkit: region not enabled for this app")
