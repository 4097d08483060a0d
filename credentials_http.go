package turnkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// nativeCredentialBody is the JSON body of POST /v1/credentials. Pointer
// and raw fields tell "absent" from "empty" and keep types strict.
type nativeCredentialBody struct {
	Key       *string         `json:"key"`
	HostIP    *string         `json:"host_ip"`
	ExpiryTTL json.RawMessage `json:"expiry_ttl"`
	Gateway   *string         `json:"gateway"`
}

// iceServer is one RTCIceServer entry.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
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
	IceServers []iceServer `json:"iceServers"`
}

// CredentialsHandler returns the handler of POST /v1/credentials, the
// native API: a JSON body with key (required), host_ip, expiry_ttl (minutes
// as a string or a number, default 10) and gateway. It needs no router:
// mount it at any path.
func (k *Kit) CredentialsHandler() http.Handler {
	return http.HandlerFunc(k.serveCredentials)
}

func (k *Kit) serveCredentials(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, k.log, fmt.Errorf("%w: use POST", ErrMethodNotAllowed))
		return
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeError(w, k.log, fmt.Errorf("%w: send the API key as \"key\" in the JSON body, not as a Bearer token", ErrBadRequest))
		return
	}
	var body nativeCredentialBody
	if err := readJSON(w, r, k.cfg.MaxBodyBytes, &body); err != nil {
		writeError(w, k.log, err)
		return
	}
	if isGatewayTTL(body.ExpiryTTL) {
		k.createGateway(w, r, &body)
		return
	}
	req, err := k.nativeRequest(r, &body)
	if err != nil {
		writeError(w, k.log, err)
		return
	}
	cred, err := k.issuer.Issue(r.Context(), req)
	if err != nil {
		writeError(w, k.log, err)
		return
	}
	writeJSON(w, http.StatusOK, credentialResponse{
		Username:   cred.Username,
		Credential: cred.Password,
		URLs:       cred.URLs,
		TTL:        int64(cred.TTL / time.Second),
		Region:     cred.Region,
		IceServers: []iceServer{{URLs: cred.URLs, Username: cred.Username, Credential: cred.Password}},
	})
}

// nativeRequest validates the body of POST /v1/credentials.
func (k *Kit) nativeRequest(r *http.Request, b *nativeCredentialBody) (*CredentialRequest, error) {
	if b.Key == nil || *b.Key == "" {
		return nil, fmt.Errorf("%w: key is required", ErrBadRequest)
	}
	req := &CredentialRequest{Key: *b.Key}
	ttl, err := parseTTLMinutes(b.ExpiryTTL, k.cfg.MaxTTL)
	if err != nil {
		return nil, err
	}
	req.TTL = ttl
	if b.Gateway != nil {
		if *b.Gateway == "" {
			return nil, fmt.Errorf("%w: gateway is empty", ErrBadRequest)
		}
		if ttl != 0 {
			return nil, fmt.Errorf("%w: expiry_ttl cannot be set with gateway: gateway credentials last %d minutes", ErrBadRequest, int(GatewayTTL/time.Minute))
		}
		req.Gateway = *b.Gateway
	}
	host, err := hostIP(r, b.HostIP)
	if err != nil {
		return nil, err
	}
	req.HostIP = host
	return req, nil
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

// createGateway serves {"key": …, "expiry_ttl": "Gateway"}.
func (k *Kit) createGateway(w http.ResponseWriter, r *http.Request, b *nativeCredentialBody) {
	if b.Key == nil || *b.Key == "" {
		writeError(w, k.log, fmt.Errorf("%w: key is required", ErrBadRequest))
		return
	}
	if b.Gateway != nil {
		writeError(w, k.log, fmt.Errorf("%w: gateway cannot be set when creating a gateway", ErrBadRequest))
		return
	}
	host, err := hostIP(r, b.HostIP)
	if err != nil {
		writeError(w, k.log, err)
		return
	}
	id, err := k.issuer.CreateGateway(r.Context(), *b.Key, host)
	if err != nil {
		writeError(w, k.log, err)
		return
	}
	writeJSON(w, http.StatusOK, gatewayResponse{Gateway: id})
}

// hostIP returns the host_ip field, or the request's peer address.
func hostIP(r *http.Request, field *string) (netip.Addr, error) {
	if field == nil {
		return remoteIP(r), nil
	}
	ip, err := netip.ParseAddr(*field)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: host_ip %q is not an IP address", ErrBadRequest, clip(*field))
	}
	return ip.Unmap(), nil
}

// remoteIP returns the request's peer address, for relay selection only.
func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap().WithZone("")
}

// clip shortens user input quoted back in an error detail.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
