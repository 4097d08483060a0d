package turnkit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/turnkit/turnkit/internal/httpx"
)

// APIKeyPrefix starts every API key turnkit generates, so keys are easy to
// recognise in code and by secret scanners.
const APIKeyPrefix = "tk_"

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomToken returns nBytes of crypto/rand as lowercase base32.
func randomToken(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return lowerBase32.EncodeToString(b)
}

// newAPIKey returns a new API key: the prefix and 160 random bits.
func newAPIKey() string { return APIKeyPrefix + randomToken(20) }

// newAppID returns a new app ID: 60 random bits, lowercase base32.
func newAppID() string { return randomToken(8)[:12] }

// newKeyID returns a new API key ID.
func newKeyID() string { return "key" + randomToken(8)[:10] }

// hashKey returns the SHA-256 of an API key: the only form in which keys
// are stored.
func hashKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// Bounds on API keys a caller supplies (generated keys are 35 characters).
const (
	minKeyLen = 16
	maxKeyLen = 256
)

// checkSuppliedKey validates an API key chosen by the embedder. The error
// never contains the key.
func checkSuppliedKey(key string) error {
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return fmt.Errorf("%w: API key must be %d to %d characters, got %d", ErrBadRequest, minKeyLen, maxKeyLen, len(key))
	}
	if strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return fmt.Errorf("%w: API key must be printable ASCII without spaces", ErrBadRequest)
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// clip shortens user input quoted back in an error detail.
func clip(s string) string { return httpx.Clip(s) }
