package store

import (
	"context"
	"time"
)

// This file holds the optional listing capabilities an admin interface
// needs: pages of apps, pages of active sessions and a journal summed by
// hour. Callers check for each with a type assertion and do without (or
// fall back to the Store's other methods) when a backend lacks it.

// AppLister is an optional capability of a Store: listing apps a page at a
// time.
type AppLister interface {
	// ListApps returns up to limit apps whose ID sorts after after (byte
	// order; "" for the first page), ordered by ID in byte order. A page
	// shorter than limit is the last. limit must be at least 1; a smaller
	// one is an error. An empty page is an empty slice and no error.
	ListApps(ctx context.Context, after string, limit int) ([]App, error)
}

// ActiveSessionLister is an optional capability of a Store: listing the
// sessions that have not ended a page at a time, across the relays of the
// fleet.
type ActiveSessionLister interface {
	// ActiveSessions returns up to limit sessions that have not ended, of
	// the app appID (of every app when appID is ""), whose ID sorts after
	// after (byte order; "" for the first page), ordered by ID in byte
	// order. Their byte totals are those charged so far. limit must be at
	// least 1; a smaller one is an error. An empty page is an empty slice
	// and no error.
	ActiveSessions(ctx context.Context, appID, after string, limit int) ([]Session, error)
}

// UsageHour is the usage an app was charged in one hour.
type UsageHour struct {
	// Start is the hour's start, in UTC.
	Start time.Time
	// Bytes is the sum of -(Subscription + PAYG) over the app's ledger
	// entries of Kind "usage" whose At is in [Start, Start+1h).
	Bytes int64
	// Entries is how many such entries there are.
	Entries int
}

// HourlyUsageLister is an optional capability of a Store: the ledger
// journal's usage summed by hour, so that a chart of a month does not read
// every entry of it.
type HourlyUsageLister interface {
	// HourlyUsage returns, for the hours from+k·1h (k = 0, 1, …) that
	// start before to, the usage of the app in each: the entries of Kind
	// "usage" whose At is at or after from and before to, summed per hour
	// they fall in. Only hours with at least one such entry are returned,
	// in time order; the result is an empty slice when there are none.
	// Entries are placed by their At as stored (to the millisecond at
	// least). A zero from or to, or a to before from, is an error.
	HourlyUsage(ctx context.Context, appID string, from, to time.Time) ([]UsageHour, error)
}
