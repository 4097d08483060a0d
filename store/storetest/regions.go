package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/turnkit/turnkit/store"
)

func testRegions(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"created with regions", func(t *testing.T, s store.Store) {
			app := newApp("a")
			app.Regions = []string{"eu-central", "us-east"}
			mustCreateApp(t, s, app)
			if got := mustApp(t, s, "a").Regions; !slices.Equal(got, app.Regions) {
				t.Fatalf("Regions = %v, want %v", got, app.Regions)
			}
		}},
		{"set and clear", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("a"))
			if got := mustApp(t, s, "a").Regions; len(got) != 0 {
				t.Fatalf("new app Regions = %v, want none", got)
			}
			if err := s.SetAppRegions(t.Context(), "a", []string{"ap-sydney"}); err != nil {
				t.Fatal(err)
			}
			if got := mustApp(t, s, "a").Regions; !slices.Equal(got, []string{"ap-sydney"}) {
				t.Fatalf("Regions = %v", got)
			}
			if err := s.SetAppRegions(t.Context(), "a", nil); err != nil {
				t.Fatal(err)
			}
			if got := mustApp(t, s, "a").Regions; len(got) != 0 {
				t.Fatalf("cleared Regions = %v", got)
			}
		}},
		{"unknown app", func(t *testing.T, s store.Store) {
			if err := s.SetAppRegions(t.Context(), "nope", []string{"x"}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("SetAppRegions: %v, want ErrNotFound", err)
			}
		}},
	})
}
