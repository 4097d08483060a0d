package selector_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/selector"
)

// vendorSlugs are the region slugs of the vendors' documents: Metered's
// supported regions, Baton's regions, Turnix's examples.
var vendorSlugs = map[string][]string{
	"metered": {"global", "north_america", "europe", "eu", "asia", "oceania", "us_west", "us_central", "us_east",
		"canada_central", "canada_east", "europe_west", "europe_central", "asia_west", "asia_east", "canada", "usa", "uk",
		"singapore", "india", "australia", "standard"},
	"baton":  {"us-east", "us-west", "eu-central", "eu-west", "uk-london", "in-mumbai", "ap-singapore", "ap-sydney"},
	"turnix": {"eu-central", "singapore"},
}

// TestDefaultAliasesKnowEveryVendorSlug: every slug the vendors document
// resolves, "global" and "standard" to any region and the others to relay
// regions that are slugs for themselves.
func TestDefaultAliasesKnowEveryVendorSlug(t *testing.T) {
	a, err := selector.NewAliases(nil)
	if err != nil {
		t.Fatal(err)
	}
	for vendor, slugs := range vendorSlugs {
		for _, slug := range slugs {
			regions, ok := a.Lookup(slug)
			switch {
			case !ok:
				t.Errorf("%s slug %q is unknown", vendor, slug)
			case slug == "global" || slug == "standard":
				if regions != nil {
					t.Errorf("%q = %q, want nil (any region)", slug, regions)
				}
			case len(regions) == 0:
				t.Errorf("%s slug %q stands for no region", vendor, slug)
			}
			for _, r := range regions {
				if self, ok := a.Lookup(r); !ok || !slices.Equal(self, []string{r}) {
					t.Errorf("region %q (of %q) is not a slug for itself: %q, %v", r, slug, self, ok)
				}
			}
		}
	}
	for slug, want := range map[string][]string{
		"us_east": {"us-east"}, "europe": {"eu-central", "eu-west", "uk-london"}, "singapore": {"ap-singapore"},
		"eu-central": {"eu-central"}, "australia": {"ap-sydney"},
	} {
		if got, _ := a.Lookup(slug); !slices.Equal(got, want) {
			t.Errorf("Lookup(%q) = %q, want %q", slug, got, want)
		}
	}
}

func TestAliasesLookup(t *testing.T) {
	a, err := selector.NewAliases(map[string][]string{
		"fra1":     {"fra1"},
		"Europe":   {"fra1", "ams1", "fra1"}, // replaces the default; the repeat is dropped
		"anywhere": {},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		slug string
		want []string
		ok   bool
	}{
		{"fra1", []string{"fra1"}, true},
		{"europe", []string{"fra1", "ams1"}, true},
		{"EUROPE", []string{"fra1", "ams1"}, true},
		{"US_East", []string{"us-east"}, true},
		{"anywhere", nil, true},
		{"global", nil, true},
		{"mars", nil, false},
		{"", nil, false},
		{"eu central", nil, false},
		{"eu-central\n", nil, false},
		{strings.Repeat("a", 65), nil, false},
		{"ü", nil, false},
	} {
		got, ok := a.Lookup(c.slug)
		if ok != c.ok || !slices.Equal(got, c.want) || (c.want == nil && got != nil) {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", c.slug, got, ok, c.want, c.ok)
		}
	}
	got, _ := a.Lookup("europe")
	got[0] = "changed"
	if again, _ := a.Lookup("europe"); again[0] != "fra1" {
		t.Errorf("changing a Lookup result changed the table: %q", again)
	}
	if !slices.Contains(a.Slugs(), "fra1") || !slices.IsSorted(a.Slugs()) {
		t.Errorf("Slugs = %q, want them sorted, with fra1", a.Slugs())
	}
	var zero *selector.Aliases
	if _, ok := zero.Lookup("global"); ok {
		t.Error("a nil Aliases knows a slug")
	}
	d := selector.DefaultAliases()
	d["europe"][0] = "changed"
	if again, _ := (&selector.Aliases{}).Lookup("europe"); again != nil {
		t.Errorf("the zero Aliases knows europe: %q", again)
	}
	fresh, _ := selector.NewAliases(nil)
	if r, _ := fresh.Lookup("europe"); r[0] != "eu-central" {
		t.Errorf("changing DefaultAliases' copy changed the defaults: %q", r)
	}
}

func TestNewAliasesRefusesBadNames(t *testing.T) {
	for name, extra := range map[string]map[string][]string{
		"empty slug":       {"": {"x"}},
		"slug with space":  {"eu west": {"x"}},
		"control in slug":  {"eu\x00": {"x"}},
		"long slug":        {strings.Repeat("s", 65): {"x"}},
		"empty region":     {"eu": {""}},
		"region with tab":  {"eu": {"eu\tcentral"}},
		"non-ASCII region": {"eu": {"europä"}},
	} {
		if _, err := selector.NewAliases(extra); err == nil {
			t.Errorf("%s: NewAliases(%q) succeeded, want an error", name, extra)
		}
	}
}

// TestSelectRegionSets: fixed and preferred sets, as aliases give them,
// with the enabled regions and health.
func TestSelectRegionSets(t *testing.T) {
	s, err := selector.New(selector.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		req     selector.Request
		relays  []selector.Candidate
		want    string
		wantErr error
		errHas  string
	}{
		{name: "fixed set: least loaded in the set", req: selector.Request{FixedRegions: []string{"eu-central", "eu-west"}},
			relays: fleet(), want: "ams"},
		{name: "fixed set and fixed region together", req: selector.Request{FixedRegion: "us-east", FixedRegions: []string{"ap-sydney"}},
			relays: fleet(), want: "iad"},
		{name: "fixed set: one region down, the other serves", req: selector.Request{FixedRegions: []string{"eu-west", "us-east"}},
			relays: change("ams", func(c *selector.Candidate) { c.Draining = true }), want: "iad"},
		{name: "fixed set unavailable", req: selector.Request{FixedRegions: []string{"sa-east", "af-south"}},
			relays: fleet(), wantErr: selector.ErrRegionUnavailable, errHas: `["sa-east" "af-south"]`},
		{name: "fixed set of one unavailable: named as a region", req: selector.Request{FixedRegions: []string{"sa-east"}},
			relays: fleet(), wantErr: selector.ErrRegionUnavailable, errHas: `region "sa-east"`},
		{name: "fixed region and set unavailable: both named", req: selector.Request{FixedRegion: "sa-east", FixedRegions: []string{"af-south"}},
			relays: fleet(), wantErr: selector.ErrRegionUnavailable, errHas: `region ["sa-east" "af-south"]`},
		{name: "fixed set cut down to the enabled regions",
			req:    selector.Request{FixedRegions: []string{"eu-central", "eu-west"}, EnabledRegions: []string{"eu-central"}},
			relays: fleet(), want: "fra"},
		{name: "fixed set with no enabled region",
			req:    selector.Request{FixedRegions: []string{"eu-central", "eu-west"}, EnabledRegions: []string{"us-east"}},
			relays: fleet(), wantErr: selector.ErrRegionNotEnabled, errHas: `["eu-central" "eu-west"]`},
		{name: "fixed set wins over preferred", req: selector.Request{FixedRegions: []string{"ap-sydney"}, PreferredRegion: "us-east"},
			relays: fleet(), want: "syd"},
		{name: "preferred set", req: selector.Request{PreferredRegions: []string{"ap-southeast", "ap-sydney"}},
			relays: fleet(), want: "sin"},
		{name: "preferred set down: any region", req: selector.Request{PreferredRegions: []string{"ap-southeast"}},
			relays: change("sin", func(c *selector.Candidate) { c.Draining = true }), want: "ams"},
		{name: "preferred set with no enabled region",
			req:    selector.Request{PreferredRegions: []string{"eu-west"}, EnabledRegions: []string{"us-east"}},
			relays: fleet(), wantErr: selector.ErrRegionNotEnabled, errHas: `"eu-west" is not among ["us-east"]`},
		{name: "empty sets: any region", req: selector.Request{FixedRegions: []string{}, PreferredRegions: []string{}},
			relays: fleet(), want: "ams"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Select(c.req, c.relays)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || !strings.Contains(fmt.Sprint(err), c.errHas) {
					t.Fatalf("Select = %q, %v; want %v containing %s", got.ID, err, c.wantErr, c.errHas)
				}
				return
			}
			if err != nil || got.ID != c.want {
				t.Fatalf("Select = %q, %v; want %q", got.ID, err, c.want)
			}
		})
	}
	relays := fleet()
	for _, req := range []selector.Request{
		{FixedRegions: []string{"eu-central", "eu-west"}, PreferredRegions: []string{"x"}},
		{FixedRegions: []string{"eu-central", "eu-west"}, PreferredRegion: "ap-sydney", EnabledRegions: []string{"ap-sydney", "eu-west"}},
	} {
		if n := testing.AllocsPerRun(100, func() {
			if c, err := s.Select(req, relays); err != nil || c.ID != "ams" {
				t.Fatalf("%+v: chose %q, %v", req, c.ID, err)
			}
		}); n != 0 {
			t.Fatalf("Select with region sets (%+v) allocates %v times", req, n)
		}
	}
}

// Region slugs from clients resolve to relay regions, which the selector
// takes as a set.
func ExampleAliases() {
	aliases, err := selector.NewAliases(map[string][]string{"fra": {"eu-central"}})
	if err != nil {
		panic(err)
	}
	for _, slug := range []string{"europe", "FRA", "global", "mars"} {
		regions, ok := aliases.Lookup(slug)
		fmt.Println(slug, regions, ok)
	}
	// Output:
	// europe [eu-central eu-west uk-london] true
	// FRA [eu-central] true
	// global [] true
	// mars [] false
}
