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
	"net/netip"
	"strings"
	"time"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// ErrForeignGateway is returned for a gateway ID that belongs to another
// app. HTTP status 403.
var ErrForeignGateway = errors.New("turnkit: gateway belongs to another app")

// GatewayTTL is the lifetime of a credential issued through a gateway.
const GatewayTTL = 3 * time.Minute

// gatewayPrefix starts every gateway ID; the digit is the format version.
const gatewayPrefix = "gw1."

// gatewayDomain separates gateway MACs from any other use of the key.
const gatewayDomain = "turnkit gateway id v1\x00"

// gatewayKeySetting names the stored key gateway IDs are signed with.
const gatewayKeySetting = "gateway-key-v1"

// gateways creates and checks gateway IDs. An ID is
// "gw1." base64url(payload) "." base64url(HMAC-SHA256(payload)[:16]), where
// the payload is the app ID and the relay ID, each preceded by its length
// in two bytes, then an 8-byte random nonce,
// signed with a key of its own that every node sharing the store uses:
// opaque to clients, and tamper-evident. Gateways need no storage: the ID
// carries the app and the relay it was first assigned, and pinning follows
// the sessions issued through it.
type gateways struct {
	key []byte
}

func loadGateways(ctx context.Context, st store.Settings) (*gateways, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	key, err := st.InitSetting(ctx, gatewayKeySetting, fresh)
	if err != nil {
		return nil, fmt.Errorf("turnkit: gateway key: %w", err)
	}
	return &gateways{key: key}, nil
}

func (g *gateways) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(gatewayDomain))
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// encode returns a new gateway ID for the app and relay.
func (g *gateways) encode(appID, relayID string) string {
	payload := make([]byte, 0, 4+len(appID)+len(relayID)+gatewayNonceLen)
	payload = binary.BigEndian.AppendUint16(payload, uint16(len(appID)))
	payload = append(payload, appID...)
	payload = binary.BigEndian.AppendUint16(payload, uint16(len(relayID)))
	payload = append(payload, relayID...)
	nonce := make([]byte, gatewayNonceLen)
	_, _ = rand.Read(nonce)
	payload = append(payload, nonce...)
	enc := base64.RawURLEncoding
	return gatewayPrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(g.mac(payload))
}

// decode checks a gateway ID and returns the app and relay it carries. A
// malformed or tampered ID is ErrBadRequest.
func (g *gateways) decode(id string) (appID, relayID string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%w: gateway %q: %s", ErrBadRequest, clip(id), why)
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
	return string(app), string(rel), nil
}

// gatewayNonceLen is the length of a gateway ID's random nonce.
const gatewayNonceLen = 8

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

// gatewayTag is what a credential's nonce carries of its gateway, and what
// sessions record: 20 hex digits of the ID's SHA-256.
func gatewayTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:10])
}

// gatewayNonce returns a username nonce that carries the gateway's tag:
// "g", the tag, then random characters.
func gatewayNonce(tag string) string { return "g" + tag + randomToken(8)[:10] }

// tagFromUsername returns the gateway tag a username carries, or "".
func tagFromUsername(name string) string {
	u, err := relay.ParseUsername(name)
	if err != nil || len(u.Nonce) < 21 || u.Nonce[0] != 'g' {
		return ""
	}
	tag := u.Nonce[1:21]
	if _, err := hex.DecodeString(tag); err != nil {
		return ""
	}
	return tag
}

// CreateGateway creates a gateway for the app of key: a persistent relay
// reservation whose ID the embedder keeps for the lifetime of a room. The
// balance is not checked here: it is checked at every credential issued
// through the gateway.
func (is *Issuer) CreateGateway(ctx context.Context, key string, hostIP netip.Addr) (string, error) {
	appID, keyID, err := is.auth.appForKey(ctx, key)
	if err != nil {
		return "", err
	}
	if err := is.limits.allow(keyID, appID, is.now()); err != nil {
		return "", err
	}
	regions, err := is.auth.regions(ctx, appID)
	if err != nil {
		return "", err
	}
	rel, err := is.choose(ctx, hostIP, "", "", regions)
	if err != nil {
		return "", err
	}
	return is.gateways.encode(appID, rel.ID), nil
}

// gatewayRelay returns the relay for a credential through a gateway: the
// relay where the gateway has an active session, or else the best relay
// for the host IP, as for a regular credential.
func (is *Issuer) gatewayRelay(ctx context.Context, appID, tag string, hostIP netip.Addr) (RelayEndpoint, error) {
	relayID, err := is.sessions.GatewayRelay(ctx, appID, tag)
	if err == nil {
		if rel, ok := is.endpoint(ctx, relayID); ok {
			return rel, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return RelayEndpoint{}, fmt.Errorf("turnkit: gateway pin: %w", err)
	}
	regions, err := is.auth.regions(ctx, appID)
	if err != nil {
		return RelayEndpoint{}, err
	}
	return is.choose(ctx, hostIP, "", "", regions)
}
