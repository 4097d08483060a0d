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
	// PreferredRegion, if set, is tried first.
	PreferredRegion string
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
// is in the fixed region, else in the preferred region, else in an enabled
// region. It knows nothing of health or load; use it for relays outside
// turnkit (coturn with the same secret) or a single embedded relay.
type StaticRelays []RelayEndpoint

var _ RelayChooser = StaticRelays(nil)

// ChooseRelay returns the first matching relay of the list.
func (s StaticRelays) ChooseRelay(_ context.Context, q RelayQuery) (RelayEndpoint, error) {
	enabled := func(region string) bool {
		return len(q.EnabledRegions) == 0 || slices.Contains(q.EnabledRegions, region)
	}
	for _, region := range []string{q.FixedRegion, q.PreferredRegion} {
		if region != "" && !enabled(region) {
			return RelayEndpoint{}, fmt.Errorf("%w: %q", ErrRegionNotEnabled, region)
		}
	}
	find := func(ok func(RelayEndpoint) bool) (RelayEndpoint, bool) {
		for _, r := range s {
			if len(r.URLs) > 0 && ok(r) {
				return r, true
			}
		}
		return RelayEndpoint{}, false
	}
	if q.FixedRegion != "" {
		if r, ok := find(func(r RelayEndpoint) bool { return r.Region == q.FixedRegion }); ok {
			return r, nil
		}
		return RelayEndpoint{}, fmt.Errorf("%w: region %q has no relay", ErrNoRelay, q.FixedRegion)
	}
	if r, ok := find(func(r RelayEndpoint) bool { return q.PreferredRegion != "" && r.Region == q.PreferredRegion }); ok {
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
