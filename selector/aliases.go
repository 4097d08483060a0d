package selector

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Aliases maps the region slugs that clients send — the names hosted TURN
// vendors use, such as Metered's "europe" or Baton's "eu-central" — to the
// relay regions ([Candidate.Region]) they stand for. A slug stands for one
// region, for several (put them in [Request.FixedRegions] or
// [Request.PreferredRegions]), or for any region ("global").
//
// The default table ([DefaultAliases]) knows every slug of Metered, Baton
// and Turnix's documents, and points them at relay regions named in Baton's
// style:
//
//	us-east  us-central  us-west  ca-central  ca-east
//	eu-central  eu-west  uk-london
//	in-mumbai  ap-singapore  ap-east  ap-sydney
//
// each of which is also a slug for itself. Name relays so, or map the
// slugs to your own region names with [NewAliases].
//
// An Aliases is read-only once made and safe for concurrent use. The zero
// value knows no slug; most callers use NewAliases(nil), the defaults.
type Aliases struct {
	m map[string][]string // lower-case slug → regions; nil: any region
}

// defaultAliases is the default table; see DefaultAliases.
var defaultAliases = map[string][]string{
	// Any region.
	"global":   nil,
	"standard": nil,

	// The relay regions themselves; Baton's slugs are among them.
	"us-east": {"us-east"}, "us-central": {"us-central"}, "us-west": {"us-west"},
	"ca-central": {"ca-central"}, "ca-east": {"ca-east"},
	"eu-central": {"eu-central"}, "eu-west": {"eu-west"}, "uk-london": {"uk-london"},
	"in-mumbai": {"in-mumbai"}, "ap-singapore": {"ap-singapore"}, "ap-east": {"ap-east"}, "ap-sydney": {"ap-sydney"},

	// Metered's slugs (Turnix's examples, eu-central and singapore, are
	// covered here and above).
	"north_america":  {"us-east", "us-central", "us-west", "ca-central", "ca-east"},
	"usa":            {"us-east", "us-central", "us-west"},
	"us_east":        {"us-east"},
	"us_central":     {"us-central"},
	"us_west":        {"us-west"},
	"canada":         {"ca-central", "ca-east"},
	"canada_central": {"ca-central"},
	"canada_east":    {"ca-east"},
	"europe":         {"eu-central", "eu-west", "uk-london"},
	"eu":             {"eu-central", "eu-west"},
	"europe_central": {"eu-central"},
	"europe_west":    {"eu-west", "uk-london"},
	"uk":             {"uk-london"},
	"asia":           {"in-mumbai", "ap-singapore", "ap-east"},
	"asia_west":      {"in-mumbai"},
	"asia_east":      {"ap-east"},
	"india":          {"in-mumbai"},
	"singapore":      {"ap-singapore"},
	"oceania":        {"ap-sydney"},
	"australia":      {"ap-sydney"},
}

// DefaultAliases returns a copy of the default table: slug → relay
// regions, a nil list meaning any region. See [Aliases] for what it holds.
func DefaultAliases() map[string][]string {
	out := make(map[string][]string, len(defaultAliases))
	for slug, regions := range defaultAliases {
		out[slug] = slices.Clone(regions)
	}
	return out
}

// NewAliases returns the default table with the entries of extra added,
// each replacing the default entry of the same slug. An entry whose list is
// empty makes its slug mean any region. Slugs are matched without regard to
// ASCII case; region names are kept as given (the selector compares them
// exactly). Slugs and region names must be 1 to 64 printable ASCII
// characters without spaces; NewAliases returns an error naming the first
// that is not.
func NewAliases(extra map[string][]string) (*Aliases, error) {
	m := make(map[string][]string, len(defaultAliases)+len(extra))
	maps.Copy(m, defaultAliases) // Lookup clones what it returns
	for _, slug := range slices.Sorted(maps.Keys(extra)) {
		if !validSlug(slug) {
			return nil, fmt.Errorf("selector: region alias %q: a slug is 1 to 64 printable ASCII characters without spaces", slug)
		}
		var regions []string
		for _, r := range extra[slug] {
			if !validSlug(r) {
				return nil, fmt.Errorf("selector: region alias %q: region %q is not 1 to 64 printable ASCII characters without spaces", slug, r)
			}
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
		m[strings.ToLower(slug)] = regions
	}
	return &Aliases{m: m}, nil
}

// Lookup returns the relay regions that slug stands for, and ok false for
// a slug the table does not know. For a slug that means any region
// ("global", "standard"), regions is nil and ok is true. The slice is the
// caller's to keep.
func (a *Aliases) Lookup(slug string) (regions []string, ok bool) {
	if a == nil || !validSlug(slug) {
		return nil, false
	}
	regions, ok = a.m[strings.ToLower(slug)]
	return slices.Clone(regions), ok
}

// Slugs returns every slug the table knows, sorted.
func (a *Aliases) Slugs() []string {
	if a == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(a.m))
}

// validSlug reports whether s is 1 to 64 printable ASCII characters
// without spaces.
func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
