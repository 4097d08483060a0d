package turnkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// exchangeBody is the JSON body of POST /v1/exchange.
type exchangeBody struct {
	Key       *string         `json:"key"`
	Namespace *string         `json:"namespace"`
	MyAddr    *string         `json:"my_transport_address"`
	Wait      json.RawMessage `json:"wait"`
}

// ExchangeHandler returns the handler of POST /v1/exchange: a JSON body
// with key and namespace (required), my_transport_address ("ip:port", to
// publish) and wait (seconds to hold the call until the namespace changes,
// capped). The answer lists every other address: {"peer_0": "…", …}.
func (k *Kit) ExchangeHandler() http.Handler {
	return k.CountRequests(EndpointExchange, http.HandlerFunc(k.serveExchange))
}

func (k *Kit) serveExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		k.writeError(w, fmt.Errorf("%w: use POST", ErrMethodNotAllowed))
		return
	}
	var body exchangeBody
	if err := k.reader.JSON(w, r, &body); err != nil {
		k.writeError(w, err)
		return
	}
	req, err := k.exchangeRequest(r, &body)
	if err != nil {
		k.writeError(w, err)
		return
	}
	peers, err := k.exchange.Do(r.Context(), req)
	if err != nil {
		k.writeError(w, err)
		return
	}
	out := make(map[string]string, len(peers))
	for i, p := range peers {
		out["peer_"+strconv.Itoa(i)] = p.String()
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (k *Kit) exchangeRequest(r *http.Request, b *exchangeBody) (ExchangeRequest, error) {
	if b.Key == nil || *b.Key == "" {
		return ExchangeRequest{}, fmt.Errorf("%w: key is required", ErrBadRequest)
	}
	if b.Namespace == nil || *b.Namespace == "" {
		return ExchangeRequest{}, fmt.Errorf("%w: namespace is required", ErrBadRequest)
	}
	req := ExchangeRequest{Namespace: *b.Namespace, RateLimit: true}
	if b.MyAddr != nil {
		ap, err := netip.ParseAddrPort(*b.MyAddr)
		if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			return ExchangeRequest{}, fmt.Errorf("%w: my_transport_address %q is not an ip:port", ErrBadRequest, clip(*b.MyAddr))
		}
		req.Publish = ap
	}
	if len(b.Wait) > 0 && string(b.Wait) != "null" {
		var secs float64
		if err := json.Unmarshal(b.Wait, &secs); err != nil || secs < 0 {
			return ExchangeRequest{}, fmt.Errorf("%w: wait must be a number of seconds, 0 or more", ErrBadRequest)
		}
		req.Wait = time.Duration(min(secs, 3600) * float64(time.Second))
	}
	caller, err := k.issuer.AuthenticateFrom(r.Context(), *b.Key, k.clientIP(r))
	if err != nil {
		return ExchangeRequest{}, err
	}
	req.AppID, req.KeyID = caller.AppID, caller.KeyID
	return req, nil
}
