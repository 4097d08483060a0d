package selector_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/turnkit/turnkit/selector"
)

// Without a GeoIP database the selector chooses by region rules and load.
// With one, set Config.Locator to the *GeoIP that OpenGeoIP returns, and
// the client's distance to each relay comes first.
func ExampleSelector_Select() {
	clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, err := selector.New(selector.Config{Now: func() time.Time { return clock }})
	if err != nil {
		panic(err)
	}
	relays := []selector.Candidate{
		{ID: "eu-1", Region: "eu-central", Capacity: 100, Allocations: 70, LastReport: clock},
		{ID: "eu-2", Region: "eu-central", Capacity: 100, Allocations: 20, LastReport: clock},
		{ID: "us-1", Region: "us-east", Capacity: 100, Allocations: 5, LastReport: clock},
		{ID: "us-2", Region: "us-east", Capacity: 100, Allocations: 0, LastReport: clock.Add(-time.Minute)}, // offline
	}

	r, _ := s.Select(selector.Request{}, relays)
	fmt.Println("least loaded:", r.ID)

	r, _ = s.Select(selector.Request{FixedRegion: "eu-central"}, relays)
	fmt.Println("fixed region:", r.ID)

	r, _ = s.Select(selector.Request{PreferredRegion: "ap-sydney"}, relays)
	fmt.Println("preferred region down:", r.ID)

	_, err = s.Select(selector.Request{FixedRegion: "ap-sydney"}, relays)
	fmt.Println(errors.Is(err, selector.ErrRegionUnavailable), err)

	_, err = s.Select(selector.Request{FixedRegion: "us-east", EnabledRegions: []string{"eu-central"}}, relays)
	fmt.Println(errors.Is(err, selector.ErrRegionNotEnabled))
	// Output:
	// least loaded: us-1
	// fixed region: eu-2
	// preferred region down: us-1
	// true turnkit: region unavailable: no healthy relay in region "ap-sydney"
	// true
}

// DistanceKm is the great-circle distance the selector ranks relays by.
func ExampleDistanceKm() {
	frankfurt := selector.Location{Lat: 50.11, Lon: 8.68}
	amsterdam := selector.Location{Lat: 52.37, Lon: 4.90}
	fmt.Printf("%.0f km\n", selector.DistanceKm(frankfurt, amsterdam))
	// Output:
	// 364 km
}
