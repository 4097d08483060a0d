package selector_test

import (
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

func TestHealthy(t *testing.T) {
	up := func(f func(c *selector.Candidate)) selector.Candidate {
		c := selector.Candidate{ID: "r", Region: "x", Capacity: 100, Allocations: 10, LastReport: now}
		f(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  selector.Config
		c    selector.Candidate
		want bool
	}{
		{"fresh report", selector.Config{}, up(func(*selector.Candidate) {}), true},
		{"report exactly 15 s old", selector.Config{}, up(func(c *selector.Candidate) { c.LastReport = now.Add(-15 * time.Second) }), true},
		{"report over 15 s old", selector.Config{}, up(func(c *selector.Candidate) { c.LastReport = now.Add(-15*time.Second - time.Nanosecond) }), false},
		{"custom OfflineAfter", selector.Config{OfflineAfter: time.Minute}, up(func(c *selector.Candidate) { c.LastReport = now.Add(-59 * time.Second) }), true},
		{"report from a clock ahead", selector.Config{}, up(func(c *selector.Candidate) { c.LastReport = now.Add(time.Minute) }), true},
		{"never reported", selector.Config{}, up(func(c *selector.Candidate) { c.LastReport = time.Time{} }), false},
		{"draining", selector.Config{}, up(func(c *selector.Candidate) { c.Draining = true }), false},
		{"one under capacity", selector.Config{}, up(func(c *selector.Candidate) { c.Allocations = 99 }), true},
		{"at capacity", selector.Config{}, up(func(c *selector.Candidate) { c.Allocations = 100 }), false},
		{"over capacity", selector.Config{}, up(func(c *selector.Candidate) { c.Allocations = 150 }), false},
		{"OverloadRatio 0.9 at 90%", selector.Config{OverloadRatio: 0.9}, up(func(c *selector.Candidate) { c.Allocations = 90 }), false},
		{"OverloadRatio 0.9 at 89%", selector.Config{OverloadRatio: 0.9}, up(func(c *selector.Candidate) { c.Allocations = 89 }), true},
		{"OverloadRatio 1.5 at 120%", selector.Config{OverloadRatio: 1.5}, up(func(c *selector.Candidate) { c.Allocations = 120 }), true},
		{"no capacity is never overloaded", selector.Config{}, up(func(c *selector.Candidate) { c.Capacity, c.Allocations = 0, 1_000_000 }), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Now = func() time.Time { return now }
			s, err := selector.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Healthy(&tc.c, now); got != tc.want {
				t.Fatalf("Healthy(%+v) = %v, want %v", tc.c, got, tc.want)
			}
			// Select must apply the same rule.
			_, err = s.Select(selector.Request{}, []selector.Candidate{tc.c})
			if (err == nil) != tc.want {
				t.Fatalf("Select of the relay alone: %v, want healthy %v", err, tc.want)
			}
		})
	}
}
