package relay

import (
	"context"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// authenticate is pion's AuthHandler: it parses the username, refuses
// expired ones for Allocate, finds the secret by the username's key ID and
// returns the long-term credential key. Refresh, CreatePermission and
// ChannelBind are allowed past expiry, so an expiring credential never cuts
// an active session; they only reach allocations the same username made.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	u, err := ParseUsername(ra.Username)
	if err != nil || ra.Realm != s.cfg.Realm {
		s.stats.authFailures.Add(1)
		return "", nil, false
	}
	now := s.cfg.Now()
	if ra.Method == stun.MethodAllocate && now.After(u.Expires.Add(s.cfg.ClockSkew)) {
		s.stats.authFailures.Add(1)
		return "", nil, false
	}
	secret, ok := s.cfg.Secrets.Secret(u.KeyID, now)
	if !ok {
		s.stats.authFailures.Add(1)
		return "", nil, false
	}
	if ra.Method == stun.MethodAllocate && s.cfg.Admitter != nil {
		err := s.cfg.Admitter.Admit(context.Background(), &AdmitRequest{
			Username: ra.Username, AppID: u.AppID, RelayID: s.cfg.ID,
		})
		if err != nil {
			s.stats.authFailures.Add(1)
			return "", nil, false
		}
	}
	password := Credential(secret, ra.Username)
	return ra.Username, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

// allowQuota is pion's QuotaHandler.
func (s *Server) allowQuota(userID string) bool {
	u, err := ParseUsername(userID)
	if err != nil {
		return false
	}
	if !s.quotas.allow(userID, u.AppID) {
		s.stats.quotaRefused.Add(1)
		return false
	}
	return true
}
