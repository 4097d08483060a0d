package selector_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name  string
		cfg   selector.Config
		field string
	}{
		{"negative tie distance", selector.Config{TieDistanceKm: -1}, "TieDistanceKm"},
		{"NaN tie distance", selector.Config{TieDistanceKm: math.NaN()}, "TieDistanceKm"},
		{"infinite tie distance", selector.Config{TieDistanceKm: math.Inf(1)}, "TieDistanceKm"},
		{"negative overload ratio", selector.Config{OverloadRatio: -0.5}, "OverloadRatio"},
		{"NaN overload ratio", selector.Config{OverloadRatio: math.NaN()}, "OverloadRatio"},
		{"negative OfflineAfter", selector.Config{OfflineAfter: -time.Second}, "OfflineAfter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := selector.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("New = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}

// TestNewDefaults: the zero Config selects, with a real clock, among fresh
// relays.
func TestNewDefaults(t *testing.T) {
	s, err := selector.New(selector.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Select(selector.Request{}, []selector.Candidate{
		{ID: "stale", LastReport: time.Now().Add(-time.Minute)},
		{ID: "fresh", LastReport: time.Now(), Allocations: 3},
	})
	if err != nil || c.ID != "fresh" {
		t.Fatalf("chose %q, %v; want fresh", c.ID, err)
	}
}
