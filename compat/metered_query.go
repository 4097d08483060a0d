package compat

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/turnkit/turnkit/internal/httpx"
)

// meteredMaxPage bounds the page a listing may ask for.
const meteredMaxPage = 1_000_000

// meteredQuery is the query string of one of Metered's endpoints, checked
// for form. A parameter given empty is the same as one not given.
type meteredQuery struct {
	// APIKey is a credential's front-end key; SecretKey the app's API key.
	APIKey, SecretKey string
	// Region is the region slug of an ICE-server fetch.
	Region string
	// Label, Page (0: not given) and All select a listing; Label and
	// Username name the credentials to delete.
	Label, Username string
	Page            int
	All             bool
}

// parseMeteredQuery parses raw, a query string of at most rd.Limit bytes,
// in which every parameter must be one of allowed and given once. page is
// a decimal from 1 to meteredMaxPage; all is a flag whose presence counts
// ("all", "all=true"), unless it is "false" or "0". Errors wrap
// rd.Errors.TooLarge or rd.Errors.BadRequest and name the parameter.
func parseMeteredQuery(rd httpx.Reader, raw string, allowed ...string) (meteredQuery, error) {
	v, err := rd.Query(&http.Request{URL: &url.URL{RawQuery: raw}}, allowed...)
	if err != nil {
		return meteredQuery{}, err
	}
	q := meteredQuery{
		APIKey: v.Get("apiKey"), SecretKey: v.Get("secretKey"), Region: v.Get("region"),
		Label: v.Get("label"), Username: v.Get("username"),
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > meteredMaxPage || p[0] == '+' || p[0] == '0' {
			return meteredQuery{}, fmt.Errorf("%w: page %q must be a whole number from 1 to %d", rd.Errors.BadRequest, httpx.Clip(p), meteredMaxPage)
		}
		q.Page = n
	}
	if vals, ok := v["all"]; ok {
		q.All = vals[0] != "false" && vals[0] != "0"
	}
	return q, nil
}
