package relay

import (
	"fmt"
	"time"
)

// StaticSecrets is a Secrets held in memory: relay secrets by key ID, for
// a game server that shares its secret with nobody but itself, or with an
// issuer configured alike. Every secret verifies at all times; to rotate,
// list the new and the old secret under two key IDs and mint with the new
// one until the old one's credentials have expired.
//
// The key ID and the secret are what credentials must be minted with: the
// key ID in Username.KeyID, the secret in Credential(secret, username).
// Key IDs are 1 to 16 characters of [a-z0-9] (see ValidKeyID); New refuses
// a StaticSecrets with another key ID or an empty secret.
//
// A StaticSecrets must not be modified once a Server uses it; reading it
// from several goroutines is safe.
type StaticSecrets map[string][]byte

var _ Secrets = StaticSecrets(nil)

// NewStaticSecrets returns a StaticSecrets holding one secret (a copy of
// secret) under keyID.
func NewStaticSecrets(keyID string, secret []byte) StaticSecrets {
	return StaticSecrets{keyID: append([]byte(nil), secret...)}
}

// Secret returns the secret with the given key ID.
func (s StaticSecrets) Secret(keyID string, _ time.Time) ([]byte, bool) {
	v, ok := s[keyID]
	return v, ok
}

// validate reports a key ID that no username can carry or an empty secret.
func (s StaticSecrets) validate() error {
	if len(s) == 0 {
		return fmt.Errorf("relay: config: StaticSecrets holds no secret")
	}
	for id, v := range s {
		if !ValidKeyID(id) {
			return fmt.Errorf("relay: config: StaticSecrets key ID %q: want 1 to 16 characters of [a-z0-9]", truncate(id, 32))
		}
		if len(v) == 0 {
			return fmt.Errorf("relay: config: StaticSecrets key ID %q: empty secret", id)
		}
	}
	return nil
}
