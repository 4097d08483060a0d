package turnkit

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
)

// RelayEndpoint is a relay the Issuer can send clients to.
type RelayEndpoint struct {
	// ID identifies the relay.
	ID string
	// Region is the relay's region slug.
	Region string
	// URLs are the relay's ICE server URLs (stun:, turn:, turns:).
	URLs []string
}

// RelayQuery is what the Issuer asks a RelayChooser for a new session.
// New fields may be added.
type RelayQuery struct {
	// HostIP is the host peer's address, to choose by distance; the zero
	// value means unknown. It is used for the choice and dropped.
	HostIP netip.Addr
	// FixedRegion, if set, is the only region the relay may be in.
	FixedRegion string
	// FixedRegions, if set, are regions the relay may be in, any of them:
	// the set form of FixedRegion, for a region alias that names several.
	FixedRegions []string
	// PreferredRegion, if set, is tried first.
	PreferredRegion string
	// PreferredRegions, if set, are tried first, together.
	PreferredRegions []string
	// EnabledRegions are the regions the app may use; empty means all.
	EnabledRegions []string
}

// RelayChooser picks relays for new sessions. The Kit's fleet registry
// implements it (nearest healthy relay, then least loaded); StaticRelays is
// a fixed list for an Issuer used on its own. Implementations are safe for
// concurrent use and answer quickly: they are asked on every credential
// request.
type RelayChooser interface {
	// ChooseRelay returns the relay for a new session. It fails with an
	// error wrapping ErrNoRelay when none can take it (one naming the
	// region for a FixedRegion without a healthy relay), or
	// ErrRegionNotEnabled when the query names a region outside
	// EnabledRegions.
	ChooseRelay(ctx context.Context, q RelayQuery) (RelayEndpoint, error)
	// RelayByID returns the relay with the given ID whatever its health,
	// for credentials pinned to it (a gateway's relay); ok is false when
	// it is not known.
	RelayByID(ctx context.Context, id string) (rel RelayEndpoint, ok bool, err error)
}

// StaticRelays is a RelayChooser over a fixed list: the first relay that
// is in the fixed region (or set), else in the preferred region (or set),
// else in an enabled region. It knows nothing of health or load; use it
// for relays outside turnkit (coturn with the same secret) or a single
// embedded relay.
type StaticRelays []RelayEndpoint

var _ RelayChooser = StaticRelays(nil)

// ChooseRelay returns the first matching relay of the list.
func (s StaticRelays) ChooseRelay(_ context.Context, q RelayQuery) (RelayEndpoint, error) {
	enabled := func(region string) bool {
		return len(q.EnabledRegions) == 0 || slices.Contains(q.EnabledRegions, region)
	}
	fixed, preferred := regionsOf(q.FixedRegion, q.FixedRegions), regionsOf(q.PreferredRegion, q.PreferredRegions)
	for _, set := range [][]string{fixed, preferred} {
		if len(set) > 0 && !slices.ContainsFunc(set, enabled) {
			return RelayEndpoint{}, fmt.Errorf("%w: %s", ErrRegionNotEnabled, quoteRegions(set))
		}
	}
	in := func(set []string) func(RelayEndpoint) bool {
		return func(r RelayEndpoint) bool { return slices.Contains(set, r.Region) && enabled(r.Region) }
	}
	find := func(ok func(RelayEndpoint) bool) (RelayEndpoint, bool) {
		for _, r := range s {
			if len(r.URLs) > 0 && ok(r) {
				return r, true
			}
		}
		return RelayEndpoint{}, false
	}
	if len(fixed) > 0 {
		if r, ok := find(in(fixed)); ok {
			return r, nil
		}
		return RelayEndpoint{}, fmt.Errorf("%w: region %s has no relay", ErrNoRelay, quoteRegions(fixed))
	}
	if r, ok := find(in(preferred)); ok {
		return r, nil
	}
	if r, ok := find(func(r RelayEndpoint) bool { return enabled(r.Region) }); ok {
		return r, nil
	}
	return RelayEndpoint{}, fmt.Errorf("%w: none of %d relays is in an enabled region", ErrNoRelay, len(s))
}

// RelayByID returns the relay of the list with the given ID.
func (s StaticRelays) RelayByID(_ context.Context, id string) (RelayEndpoint, bool, error) {
	for _, r := range s {
		if r.ID == id {
			return r, true, nil
		}
	}
	return RelayEndpoint{}, false, nil
}

// regionsOf returns the regions a query names for one rule: its single
// region and its set, together (nil: any region).
func regionsOf(one string, many []string) []string {
	if one == "" {
		return many
	}
	return append([]string{one}, many...)
}

// quoteRegions names regions in an error: "eu" for one, ["eu" "us"] for
// several.
func quoteRegions(set []string) string {
	if len(set) == 1 {
		return fmt.Sprintf("%q", set[0])
	}
	return fmt.Sprintf("%q", set)
}
