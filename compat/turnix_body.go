package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/store"
)

// turnixFields are the parameters of POST /credentials/ice, with the
// misspelling that the vendor's own examples send.
var turnixFields = []string{
	"initiator_client", "receiver_client", "room", "ttl", "fixed_region", "preferred_region", "preffered_region",
}

// turnixParams are the parameters of a Turnix credential request, checked
// for form; the regions are still the client's slugs.
type turnixParams struct {
	// TTL is the credential's lifetime; zero when the request names none.
	TTL time.Duration
	// FixedRegion and PreferredRegion are the region slugs; at most one
	// is set.
	FixedRegion, PreferredRegion string
	// Metadata is the request's room and clients.
	Metadata store.Metadata
}

// turnixJSON is a JSON body of POST /credentials/ice. An empty string
// member, like a null one, names nothing; TTL is raw, since it may be a
// number or a string.
type turnixJSON struct {
	InitiatorClient string          `json:"initiator_client"`
	ReceiverClient  string          `json:"receiver_client"`
	Room            string          `json:"room"`
	TTL             json.RawMessage `json:"ttl"`
	FixedRegion     string          `json:"fixed_region"`
	PreferredRegion string          `json:"preferred_region"`
	PrefferedRegion string          `json:"preffered_region"`
}

// isTurnixMedia reports whether a Turnix body may be of media type mt:
// none, JSON or a form.
func isTurnixMedia(mt string) bool {
	return mt == "" || httpx.IsJSON(mt) || mt == "application/x-www-form-urlencoded"
}

// parseTurnixBody parses the body of a Turnix credential request (read
// within rd.Limit), whatever media type isTurnixMedia allowed: the
// vendor's own examples send forms labelled application/json (Ruby's
// HTTParty with a hash body, fetch with URLSearchParams), so a body is
// read as strict JSON when it starts with '{' and as a form otherwise. An
// empty body names no parameter. Errors wrap rd.Errors.BadRequest and say
// which parameter is wrong.
func parseTurnixBody(rd httpx.Reader, body []byte) (turnixParams, error) {
	bad := func(format string, args ...any) (turnixParams, error) {
		return turnixParams{}, fmt.Errorf("%w: %s", rd.Errors.BadRequest, fmt.Sprintf(format, args...))
	}
	trimmed := bytes.TrimSpace(body)
	fields := map[string]string{}
	ttl, ttlOK := time.Duration(0), true
	switch {
	case len(trimmed) == 0:
	case trimmed[0] == '{':
		var b turnixJSON
		if err := rd.DecodeJSON(trimmed, &b); err != nil {
			return turnixParams{}, err
		}
		for name, v := range map[string]string{
			"initiator_client": b.InitiatorClient, "receiver_client": b.ReceiverClient, "room": b.Room,
			"fixed_region": b.FixedRegion, "preferred_region": b.PreferredRegion, "preffered_region": b.PrefferedRegion,
		} {
			if v != "" {
				fields[name] = v
			}
		}
		ttl, ttlOK = jsonSeconds(b.TTL)
	default:
		v, err := rd.DecodeForm(trimmed, turnixFields...)
		if err != nil {
			return turnixParams{}, err
		}
		fields = formFields(v)
		if t, ok := fields["ttl"]; ok {
			ttl, ttlOK = parseSeconds(t)
		}
	}
	if !ttlOK {
		return bad("ttl must be a whole number of seconds from 1 to %d", maxSeconds)
	}
	preferred, misspelt := fields["preferred_region"], fields["preffered_region"]
	switch {
	case preferred != "" && misspelt != "":
		return bad("preferred_region is given twice (as preferred_region and preffered_region)")
	case misspelt != "":
		preferred = misspelt
	}
	fixed := fields["fixed_region"]
	if fixed != "" && preferred != "" {
		return bad("fixed_region and preferred_region exclude each other: use one of them")
	}
	return turnixParams{
		TTL:             ttl,
		FixedRegion:     fixed,
		PreferredRegion: preferred,
		Metadata:        store.Metadata{Room: fields["room"], Initiator: fields["initiator_client"], Receiver: fields["receiver_client"]},
	}, nil
}

// formFields returns the non-empty values of a form whose names were
// checked to be given once.
func formFields(v url.Values) map[string]string {
	out := make(map[string]string, len(v))
	for name := range v {
		if s := v.Get(name); s != "" {
			out[name] = s
		}
	}
	return out
}
