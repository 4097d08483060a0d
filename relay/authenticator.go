package relay

// This file holds the pluggable authentication of TURN requests and its
// default: turnkit's REST API credentials verified with relay secrets.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pion/stun/v4"
)

// ErrUnknownSecret is returned, wrapped, by the REST authenticator for a
// username whose key ID names no relay secret that verifies now (unknown,
// or retired).
var ErrUnknownSecret = errors.New("turnkit: unknown or retired relay secret")

// Method is the TURN method of an authenticated request.
type Method string

// The methods of authenticated TURN requests (RFC 8656, RFC 6062).
const (
	MethodAllocate         Method = "Allocate"
	MethodRefresh          Method = "Refresh"
	MethodCreatePermission Method = "CreatePermission"
	MethodChannelBind      Method = "ChannelBind"
	MethodConnect          Method = "Connect"
	MethodConnectionBind   Method = "ConnectionBind"
)

// methodOf converts pion's method at the edge of the package.
func methodOf(m stun.Method) Method {
	switch m {
	case stun.MethodAllocate:
		return MethodAllocate
	case stun.MethodRefresh:
		return MethodRefresh
	case stun.MethodCreatePermission:
		return MethodCreatePermission
	case stun.MethodChannelBind:
		return MethodChannelBind
	case stun.MethodConnect:
		return MethodConnect
	case stun.MethodConnectionBind:
		return MethodConnectionBind
	}
	return Method("0x" + strconv.FormatUint(uint64(m), 16))
}

// AuthRequest describes a TURN request to authenticate. New fields may be
// added.
type AuthRequest struct {
	// Username is the USERNAME of the request, as the client sent it.
	Username string
	// Realm is the REALM of the request; the relay has checked that it is
	// its own.
	Realm string
	// Method is the request's method.
	Method Method
	// At is the relay's clock when the request arrived.
	At time.Time
}

// Identity is what an Authenticator knows about a username: the password
// the request must be signed with and whose the credential is.
type Identity struct {
	// AppID attributes the session and its quotas (MaxAllocationsPerApp).
	// Empty puts the session in one shared, unnamed app.
	AppID string
	// Password is the TURN password; the relay derives the long-term key
	// MD5(username:realm:password) from it and checks the request's
	// MESSAGE-INTEGRITY with that key.
	Password string
	// Expires is when the credential stops opening allocations: an Allocate
	// is refused after Expires plus Config.ClockSkew, while Refresh,
	// CreatePermission and ChannelBind are still allowed, so that an
	// expiring credential never cuts a live session. Zero: never.
	Expires time.Time
	// KeyID is the ID of the API key that minted the credential, if known.
	// It is passed to the Admitter, so that a revoked key's credentials can
	// be refused, and reported on SessionEvent.
	KeyID string
	// Gateway is the tag of the gateway the credential was issued through,
	// if any, reported on SessionEvent.
	Gateway string
	// MaxAllocations caps the live allocations of this username on the
	// relay in place of Config.MaxAllocationsPerUser. Zero keeps that cap;
	// a negative value sets none, so that only the app's and the relay's
	// caps apply: for a credential many clients share on purpose, such as
	// a persistent credential handed to every visitor of a web page.
	MaxAllocations int
}

// Authenticator turns the username of a TURN request into the password it
// must be signed with, and says whose it is.
//
// Authenticate is called for every authenticated TURN request (Allocate,
// Refresh, CreatePermission, ChannelBind, and again by the relay's own
// checks of some of them), never per relayed packet, on the request path
// and from several goroutines at once: implementations answer from memory
// or a cache, and a slow answer delays the other requests of the listener.
// ctx is cancelled when the Server closes.
//
// A non-nil error, or a nil Identity, refuses the request with 401
// Unauthorized; the error is not sent to the client. The relay does not
// call the authenticator per packet: it remembers the Identity of each
// live allocation, taken at its Allocate, until the allocation ends.
type Authenticator interface {
	Authenticate(ctx context.Context, req *AuthRequest) (*Identity, error)
}

// NewRESTAuthenticator returns the relay's default authenticator: it
// parses a username in turnkit's REST API form (see Username), finds the
// relay secret by the username's key ID and answers the password
// Credential(secret, username), the expiry written in the username, the
// app ID, and the API key ID and gateway of its optional segments. It
// leaves the expiry check to the relay.
//
// A username that is not in turnkit's form is an error wrapping
// ErrMalformedUsername, and a key ID without a secret that verifies now one
// wrapping ErrUnknownSecret, so that an authenticator can chain it: try the
// REST form first, and fall back to its own lookup on ErrMalformedUsername.
// secrets must not be nil.
func NewRESTAuthenticator(secrets Secrets) Authenticator {
	return restAuthenticator{secrets: secrets}
}

type restAuthenticator struct{ secrets Secrets }

func (a restAuthenticator) Authenticate(_ context.Context, req *AuthRequest) (*Identity, error) {
	u, err := ParseUsername(req.Username)
	if err != nil {
		return nil, err
	}
	at := req.At
	if at.IsZero() {
		at = time.Now()
	}
	secret, ok := a.secrets.Secret(u.KeyID, at)
	if !ok {
		return nil, fmt.Errorf("%w: key ID %q", ErrUnknownSecret, u.KeyID)
	}
	return &Identity{
		AppID:    u.AppID,
		Password: Credential(secret, req.Username),
		Expires:  u.Expires,
		KeyID:    u.APIKey,
		Gateway:  u.Gateway,
	}, nil
}
