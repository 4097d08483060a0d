package turnkit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// GatewayTTL is the lifetime of a credential issued through a gateway.
const GatewayTTL = 3 * time.Minute

const (
	// gatewayPrefix starts every gateway ID; the digit is the format
	// version.
	gatewayPrefix = "gw1."
	// gatewayDomain separates gateway MACs from any other use of the key.
	gatewayDomain = "turnkit gateway id v1\x00"
	// gatewayKeySetting names the stored key gateway IDs are signed with.
	gatewayKeySetting = "gateway-key-v1"
	// gatewayNonceLen is the length of a gateway ID's random nonce.
	gatewayNonceLen = 8
	// minGatewayKey is the shortest signing key NewGatewayStore takes.
	minGatewayKey = 32
)

// Gateway is a decoded gateway ID.
type Gateway struct {
	// ID is the gateway ID as clients hold it.
	ID string
	// AppID is the app the gateway belongs to.
	AppID string
	// RelayID is the relay the gateway was first assigned.
	RelayID string
	// Tag is what credentials issued through the gateway carry of it, and
	// what sessions record: 20 hex digits of the ID's SHA-256.
	Tag string
}

// GatewayPins tells where a gateway has an active session.
// store.SessionStats implements it over the sessions the relays record.
type GatewayPins interface {
	// GatewayRelay returns the relay of an active session of the app
	// issued through the gateway with the given tag, or an error wrapping
	// store.ErrNotFound when there is none.
	GatewayRelay(ctx context.Context, appID, tag string) (string, error)
}

// GatewayStoreConfig configures a GatewayStore.
type GatewayStoreConfig struct {
	// Key signs gateway IDs; at least 32 bytes. Every node that creates or
	// resolves the same gateways must use the same key. When empty,
	// Settings must be set.
	Key []byte
	// Settings, used when Key is empty, holds the signing key that nodes
	// sharing a store share: the first node creates it.
	Settings store.Settings
	// Pins tells where gateways have active sessions. Nil means none is
	// ever pinned: each credential goes to the best relay for its request.
	Pins GatewayPins
}

// GatewayStore creates, resolves and pins gateways: persistent relay
// reservations that keep every member of a room on one relay.
//
// A gateway ID is "gw1." base64url(payload) "." base64url(HMAC-SHA256 of
// the payload, 16 bytes), where the payload is the app ID and the relay ID,
// each preceded by its length in two bytes, then an 8-byte random nonce,
// signed with the store's key: opaque to clients and tamper-evident. IDs
// never expire and need no storage.
//
// Pinning follows the sessions, as the native API specifies: a credential
// issued through a gateway goes to the relay where the gateway has an
// active session, whatever relay it was created on, and to the best relay
// for its request when it has none. The relay learns a session's gateway
// from the credential: the Issuer puts the gateway's Tag in the TURN
// username (relay.Username's Gateway field), the relay's authenticator
// reports it in the session's start event, the Kit records it on the
// session, and Pin asks GatewayPins for an active session with that tag.
//
// A GatewayStore is safe for concurrent use.
type GatewayStore struct {
	key  []byte
	pins GatewayPins
}

// NewGatewayStore returns a GatewayStore, loading or creating its key in
// cfg.Settings when cfg.Key is empty.
func NewGatewayStore(ctx context.Context, cfg GatewayStoreConfig) (*GatewayStore, error) {
	key := cfg.Key
	if len(key) == 0 {
		if cfg.Settings == nil {
			return nil, fmt.Errorf("%w: gateway store: set Key or Settings", ErrBadRequest)
		}
		fresh := make([]byte, minGatewayKey)
		_, _ = rand.Read(fresh) // crypto/rand.Read never fails
		var err error
		if key, err = cfg.Settings.InitSetting(ctx, gatewayKeySetting, fresh); err != nil {
			return nil, fmt.Errorf("turnkit: gateway key: %w", err)
		}
	}
	if len(key) < minGatewayKey {
		return nil, fmt.Errorf("%w: gateway key is %d bytes, at least %d", ErrBadRequest, len(key), minGatewayKey)
	}
	return &GatewayStore{key: append([]byte(nil), key...), pins: cfg.Pins}, nil
}

func (g *GatewayStore) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(gatewayDomain))
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// Create returns a new gateway ID for the app, first assigned to the
// relay.
func (g *GatewayStore) Create(appID, relayID string) (string, error) {
	if !relay.ValidAppID(appID) || relayID == "" || len(relayID) > 0xFFFF {
		return "", fmt.Errorf("%w: gateway for app %q on relay %q", ErrBadRequest, httpx.Clip(appID), httpx.Clip(relayID))
	}
	payload := make([]byte, 0, 4+len(appID)+len(relayID)+gatewayNonceLen)
	payload = binary.BigEndian.AppendUint16(payload, uint16(len(appID)))
	payload = append(payload, appID...)
	payload = binary.BigEndian.AppendUint16(payload, uint16(len(relayID)))
	payload = append(payload, relayID...)
	nonce := make([]byte, gatewayNonceLen)
	_, _ = rand.Read(nonce)
	payload = append(payload, nonce...)
	enc := base64.RawURLEncoding
	return gatewayPrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(g.mac(payload)), nil
}

// Resolve checks a gateway ID and returns what it carries. A malformed or
// tampered ID is an error wrapping ErrBadRequest.
func (g *GatewayStore) Resolve(id string) (Gateway, error) {
	bad := func(why string) (Gateway, error) {
		return Gateway{}, fmt.Errorf("%w: gateway %q: %s", ErrBadRequest, httpx.Clip(id), why)
	}
	if len(id) > 512 || !strings.HasPrefix(id, gatewayPrefix) {
		return bad("not a gateway ID")
	}
	body, sig, ok := strings.Cut(id[len(gatewayPrefix):], ".")
	if !ok {
		return bad("not a gateway ID")
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(body)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || len(mac) != 16 {
		return bad("not a gateway ID")
	}
	if !hmac.Equal(mac, g.mac(payload)) {
		return bad("signature does not match")
	}
	app, rest, ok := lengthPrefixed(payload)
	if !ok {
		return bad("malformed content")
	}
	rel, rest, ok := lengthPrefixed(rest)
	if !ok || len(rest) != gatewayNonceLen || !relay.ValidAppID(string(app)) {
		return bad("malformed content")
	}
	return Gateway{ID: id, AppID: string(app), RelayID: string(rel), Tag: gatewayTag(id)}, nil
}

// Pin returns the relay where the gateway has an active session; pinned is
// false when it has none (or the store has no GatewayPins).
func (g *GatewayStore) Pin(ctx context.Context, gw Gateway) (relayID string, pinned bool, err error) {
	if g.pins == nil {
		return "", false, nil
	}
	relayID, err = g.pins.GatewayRelay(ctx, gw.AppID, gw.Tag)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("turnkit: gateway pin: %w", err)
	}
	return relayID, true, nil
}

// lengthPrefixed splits a two-byte length and that many bytes off b.
func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// gatewayTag is 20 hex digits of the gateway ID's SHA-256.
func gatewayTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:10])
}
