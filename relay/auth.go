package relay

// This file connects pion's authentication and quota callbacks to the
// Authenticator, the Admitter and the quotas, and carries the Identity of
// an Allocate from its authentication to its allocation.

import (
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/pion/turn/v5"
)

var (
	errWrongRealm = errors.New("turnkit: wrong realm")
	errNoIdentity = errors.New("turnkit: authenticator returned no identity")
	errExpired    = errors.New("turnkit: credential expired")
)

// authenticate is pion's AuthHandler. It asks the authenticator for the
// username's identity, refuses an Allocate past the credential's expiry or
// refused by the Admitter, and returns the long-term credential key.
// Refresh, CreatePermission and ChannelBind are allowed past expiry, so an
// expiring credential never cuts an active session; they only reach
// allocations the same username made. The Admitter's word on a Refresh is
// asked by the request gate, which sees the requested lifetime.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	method := methodOf(ra.Method)
	id, key, err := s.identify(ra.Username, ra.Realm, method)
	if err == nil {
		err = s.authorize(ra.Username, method, id)
	}
	if err != nil {
		s.stats.authFailures.Add(1)
		return "", nil, false
	}
	if method == MethodAllocate {
		s.pending.Add(ra.Username, *id)
	}
	return ra.Username, key, true
}

// identify asks the authenticator who username is and derives the
// request's long-term key.
func (s *Server) identify(username, realm string, method Method) (*Identity, []byte, error) {
	if realm != s.cfg.Realm {
		return nil, nil, fmt.Errorf("%w %q", errWrongRealm, truncate(realm, 64))
	}
	now := s.cfg.Now()
	id, err := s.auth.Authenticate(s.ctx, &AuthRequest{Username: username, Realm: realm, Method: method, At: now})
	if err != nil {
		return nil, nil, err
	}
	if id == nil {
		return nil, nil, errNoIdentity
	}
	return id, turn.GenerateAuthKey(username, realm, id.Password), nil
}

// authorize applies the checks an Allocate passes after authentication:
// the credential's expiry, then the Admitter. Other methods pass.
func (s *Server) authorize(username string, method Method, id *Identity) error {
	if method != MethodAllocate {
		return nil
	}
	if !id.Expires.IsZero() && s.cfg.Now().After(id.Expires.Add(s.cfg.ClockSkew)) {
		return fmt.Errorf("%w at %s", errExpired, id.Expires.UTC().Format(time.RFC3339))
	}
	return s.admit(username, method, id)
}

// admit asks the Admitter, if there is one.
func (s *Server) admit(username string, method Method, id *Identity) error {
	if s.cfg.Admitter == nil {
		return nil
	}
	return s.cfg.Admitter.Admit(s.ctx, &AdmitRequest{
		Username: username, AppID: id.AppID, RelayID: s.cfg.ID,
		Method: method, KeyID: id.KeyID, Gateway: id.Gateway,
	})
}

// allowQuota is pion's QuotaHandler: it counts the allocation against the
// app of the identity its Allocate was authenticated with.
func (s *Server) allowQuota(userID string) bool {
	id, ok := s.identityOf(userID)
	if !ok {
		return false
	}
	if !s.quotas.allow(userID, id.AppID, id.MaxAllocations) {
		s.pending.Remove(userID)
		s.stats.quotaRefused.Add(1)
		return false
	}
	return true
}

// identityOf returns the identity an Allocate of userID was just
// authenticated with. pion calls the quota handler and then the allocation
// event right after the auth handler, on the same goroutine, so the
// identity is in the pending table unless a flood of Allocates on other
// listeners pushed it out in between; then the authenticator is asked
// again.
func (s *Server) identityOf(userID string) (Identity, bool) {
	if id, ok := s.pending.Get(userID); ok {
		return id, true
	}
	id, _, err := s.identify(userID, s.cfg.Realm, MethodAllocate) // the Allocate passed authorize already
	if err != nil {
		return Identity{}, false
	}
	return *id, true
}

// pendingIdentities bounds the identities of Allocates between their
// authentication and their allocation. Entries are removed when the
// allocation is created or refused; those of Allocates that failed in
// pion (a wrong password, a bad request) wait for eviction.
const pendingIdentities = 1024

func newPending() *lru.Cache[string, Identity] {
	c, _ := lru.New[string, Identity](pendingIdentities) // errors only for a size <= 0
	return c
}
