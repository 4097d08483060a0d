package turnkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// nativeCredentialBody is the JSON body of POST /v1/credentials. Pointer
// and raw fields tell "absent" from "empty" and keep types strict.
type nativeCredentialBody struct {
	Key       *string         `json:"key"`
	HostIP    *string         `json:"host_ip"`
	ExpiryTTL json.RawMessage `json:"expiry_ttl"`
	Gateway   *string         `json:"gateway"`
}

// ICEServer is one RTCIceServer entry of an answer.
type ICEServer struct {
	// URLs are the server's stun:, turn: or turns: URLs.
	URLs []string `json:"urls"`
	// Username and Credential authenticate to the TURN URLs; empty for a
	// STUN-only entry.
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// credentialResponse is the answer of POST /v1/credentials: an object that
// is itself a valid RTCIceServer (username, credential, urls), plus the TTL
// in seconds, the region and a ready iceServers array.
type credentialResponse struct {
	Username   string      `json:"username"`
	Credential string      `json:"credential"`
	URLs       []string    `json:"urls"`
	TTL        int64       `json:"ttl"`
	Region     string      `json:"region"`
	IceServers []ICEServer `json:"iceServers"`
}

// CredentialsHandler returns the handler of POST /v1/credentials. A request
// with the API key as "key" in its JSON body is the native form: host_ip,
// expiry_ttl (minutes as a string or a number, default 10, or "Gateway")
// and gateway. A request that carries an Authorization header is the Baton
// form (see BatonHandler: ttl in seconds, default 3600; 400 if it also has
// "key" in its body). It needs no router: mount it at any path.
func (k *Kit) CredentialsHandler() http.Handler {
	return k.countCredentials(http.HandlerFunc(k.serveCredentials))
}

func (k *Kit) serveCredentials(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		k.writeError(w, fmt.Errorf("%w: use POST", ErrMethodNotAllowed))
		return
	}
	if _, ok := httpx.Bearer(r); ok {
		if k.bearer != nil {
			k.bearer.ServeHTTP(w, r)
			return
		}
		k.writeError(w, fmt.Errorf("%w: send the API key as \"key\" in the JSON body, not in an Authorization header", ErrBadRequest))
		return
	}
	var body nativeCredentialBody
	if err := k.reader.JSON(w, r, &body); err != nil {
		k.writeError(w, err)
		return
	}
	if body.Key == nil || *body.Key == "" {
		k.writeError(w, fmt.Errorf("%w: key is required", ErrBadRequest))
		return
	}
	host, err := k.hostIP(r, body.HostIP)
	if err != nil {
		k.writeError(w, err)
		return
	}
	gateway := isGatewayTTL(body.ExpiryTTL)
	req := &CredentialRequest{RateLimit: true, HostIP: host}
	if !gateway {
		if err := nativeRequest(req, &body, k.cfg.MaxTTL); err != nil {
			k.writeError(w, err)
			return
		}
	} else if body.Gateway != nil {
		k.writeError(w, fmt.Errorf("%w: gateway cannot be set when creating a gateway", ErrBadRequest))
		return
	}
	caller, err := k.issuer.AuthenticateFrom(r.Context(), *body.Key, k.clientIP(r))
	if err != nil {
		k.writeError(w, err)
		return
	}
	if gateway {
		id, err := k.issuer.CreateGateway(r.Context(), &GatewayRequest{AppID: caller.AppID, KeyID: caller.KeyID, RateLimit: true, HostIP: host})
		if err != nil {
			k.writeError(w, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, gatewayResponse{Gateway: id})
		return
	}
	req.AppID, req.KeyID = caller.AppID, caller.KeyID
	cred, err := k.issuer.Issue(r.Context(), req)
	if err != nil {
		k.writeError(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, credentialResponse{
		Username:   cred.Username,
		Credential: cred.Password,
		URLs:       cred.URLs,
		TTL:        int64(cred.TTL / time.Second),
		Region:     cred.Region,
		IceServers: []ICEServer{{URLs: cred.URLs, Username: cred.Username, Credential: cred.Password}},
	})
}

// nativeRequest fills req from the body of a regular or gateway
// credential request.
func nativeRequest(req *CredentialRequest, b *nativeCredentialBody, maxTTL time.Duration) error {
	ttl, err := parseTTLMinutes(b.ExpiryTTL, maxTTL)
	if err != nil {
		return err
	}
	req.TTL = ttl
	if b.Gateway != nil {
		if *b.Gateway == "" {
			return fmt.Errorf("%w: gateway is empty", ErrBadRequest)
		}
		if ttl != 0 {
			return fmt.Errorf("%w: expiry_ttl cannot be set with gateway: gateway credentials last %d minutes", ErrBadRequest, int(GatewayTTL/time.Minute))
		}
		req.Gateway = *b.Gateway
	}
	return nil
}

// parseTTLMinutes parses expiry_ttl: absent or null → 0 (the default), a
// whole positive number of minutes as a JSON number or a decimal string, at
// most max.
func parseTTLMinutes(raw json.RawMessage, max time.Duration) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("%w: expiry_ttl is not a valid string", ErrBadRequest)
		}
	}
	maxMin := int64(max / time.Minute)
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n <= 0 || n > maxMin {
		return 0, fmt.Errorf("%w: expiry_ttl %q must be a whole number of minutes from 1 to %d", ErrBadRequest, clip(text), maxMin)
	}
	return time.Duration(n) * time.Minute, nil
}

// isGatewayTTL reports whether expiry_ttl is the string "Gateway".
func isGatewayTTL(raw json.RawMessage) bool {
	var s string
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && s == "Gateway"
}

// gatewayResponse answers a gateway creation.
type gatewayResponse struct {
	Gateway string `json:"gateway"`
}

// hostIP returns the host_ip field, or the request's client address.
func (k *Kit) hostIP(r *http.Request, field *string) (netip.Addr, error) {
	if field == nil {
		return k.clientIP(r), nil
	}
	return ParseHostIP("host_ip", *field)
}

// ParseHostIP parses a host IP that a request names for relay choice in
// the field name: an IPv4 or IPv6 address without a zone. An invalid one
// is an error wrapping ErrBadRequest that quotes it (to its own sender
// only).
func ParseHostIP(name, s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: %s %q is not an IP address", ErrBadRequest, name, clip(s))
	}
	return ip.Unmap(), nil
}

// RemoteIP returns the address of the peer of r, the default of
// Config.ClientIP: for relay choice and the failed-key limit only.
func RemoteIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}
