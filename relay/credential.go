package relay

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the TURN REST API specifies.
	"encoding/base64"
)

// Credential returns the TURN password for a username under a relay secret:
// base64(HMAC-SHA1(secret, username)), the TURN REST API form that coturn's
// static-auth-secret also accepts. The secret is used as the HMAC key as is,
// with no derivation.
func Credential(secret []byte, username string) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
