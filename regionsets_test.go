package turnkit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
)

// TestStaticRelaysRegionSets: StaticRelays takes the set forms of the
// fixed and preferred regions that region aliases give: any region of a
// set will do, the app's enabled regions cut a set down, and a set with
// none of them enabled is refused.
func TestStaticRelaysRegionSets(t *testing.T) {
	relays := turnkit.StaticRelays{
		{ID: "fra", Region: "eu-central", URLs: []string{"turn:192.0.2.1:3478"}},
		{ID: "lon", Region: "uk-london", URLs: []string{"turn:192.0.2.2:3478"}},
		{ID: "iad", Region: "us-east", URLs: []string{"turn:192.0.2.3:3478"}},
	}
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		q       turnkit.RelayQuery
		want    string
		wantErr error
		errHas  string
	}{
		{"fixed set", turnkit.RelayQuery{FixedRegions: []string{"uk-london", "eu-west"}}, "lon", nil, ""},
		{"fixed set and region", turnkit.RelayQuery{FixedRegion: "us-east", FixedRegions: []string{"eu-west"}}, "iad", nil, ""},
		{"fixed set cut down", turnkit.RelayQuery{FixedRegions: []string{"eu-central", "uk-london"}, EnabledRegions: []string{"uk-london"}}, "lon", nil, ""},
		{"fixed set not enabled", turnkit.RelayQuery{FixedRegions: []string{"eu-central", "uk-london"}, EnabledRegions: []string{"us-east"}},
			"", turnkit.ErrRegionNotEnabled, `["eu-central" "uk-london"]`},
		{"fixed set without a relay", turnkit.RelayQuery{FixedRegions: []string{"ap-sydney", "ap-east"}}, "", turnkit.ErrNoRelay, `"ap-sydney"`},
		{"preferred set", turnkit.RelayQuery{PreferredRegions: []string{"ap-sydney", "us-east"}}, "iad", nil, ""},
		{"preferred set without a relay", turnkit.RelayQuery{PreferredRegions: []string{"ap-sydney"}}, "fra", nil, ""},
		{"single fixed region", turnkit.RelayQuery{FixedRegion: "uk-london"}, "lon", nil, ""},
		{"single fixed region not enabled", turnkit.RelayQuery{FixedRegion: "uk-london", EnabledRegions: []string{"us-east"}}, "", turnkit.ErrRegionNotEnabled, `"uk-london"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := relays.ChooseRelay(ctx, c.q)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("ChooseRelay = %q, %v; want %v naming %s", got.ID, err, c.wantErr, c.errHas)
				}
				return
			}
			if err != nil || got.ID != c.want {
				t.Fatalf("ChooseRelay = %q, %v; want %q", got.ID, err, c.want)
			}
		})
	}
}
