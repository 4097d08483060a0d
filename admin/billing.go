package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// Bounds on billing input.
const (
	// MaxTopUpBytes bounds one top-up: 10^15 bytes (a petabyte).
	MaxTopUpBytes int64 = 1_000_000_000_000_000
	// MaxReferenceLen bounds a top-up's payment reference, in bytes.
	MaxReferenceLen = 128
	// MaxUsageHours bounds the range of a usage query: 31 days of hourly
	// buckets.
	MaxUsageHours = 31 * 24
	// DefaultUsageHours is the range of a usage query that names none:
	// the last 24 hours, up to the end of the current one.
	DefaultUsageHours = 24
)

// The times a usage range may span: what every store can hold.
var (
	minUsageTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxUsageTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// GET apps/{app}/balance.
func (h *Handler) getBalance(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	b, err := h.cfg.Billing.Balance(r.Context(), app.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, balanceOut(b))
}

// topUpBody is the body of POST apps/{app}/topups.
type topUpBody struct {
	Bytes     *int64  `json:"bytes"`
	Reference *string `json:"reference"`
}

// POST apps/{app}/topups {"bytes", "reference"}: adds bytes to the app's
// pay-as-you-go bucket once per reference (a payment ID). The first
// request answers 201 with applied true; a request with a reference
// already used changes nothing, whatever its amount, and answers 200 with
// applied false. Both carry the balance after.
func (h *Handler) topUp(w http.ResponseWriter, r *http.Request) {
	app, ok := h.appOf(w, r)
	if !ok {
		return
	}
	var body topUpBody
	if err := h.input(w, r, &body); err != nil {
		h.fail(w, err)
		return
	}
	switch {
	case body.Bytes == nil || *body.Bytes < 1 || *body.Bytes > MaxTopUpBytes:
		h.fail(w, fmt.Errorf("%w: bytes must be a whole number of bytes from 1 to %d", h.cfg.Kinds.BadRequest, MaxTopUpBytes))
		return
	case body.Reference == nil || !reference(*body.Reference):
		h.fail(w, fmt.Errorf("%w: reference (the payment's ID, which makes the top-up apply once) must be 1 to %d printable ASCII characters without spaces",
			h.cfg.Kinds.BadRequest, MaxReferenceLen))
		return
	}
	applied, err := h.cfg.Billing.TopUp(r.Context(), app.ID, *body.Bytes, *body.Reference)
	if err != nil {
		h.fail(w, err)
		return
	}
	b, err := h.cfg.Billing.Balance(r.Context(), app.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	status := http.StatusOK
	if applied {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, topUpJSON{Applied: applied, Reference: *body.Reference, Bytes: *body.Bytes, Balance: balanceOut(b)})
}

// reference reports whether s is 1 to MaxReferenceLen printable ASCII
// characters without spaces.
func reference(s string) bool {
	return s != "" && len(s) <= MaxReferenceLen && strings.IndexFunc(s, func(c rune) bool { return c <= ' ' || c > '~' }) < 0
}

// GET apps/{app}/usage?from&to: the usage the app was charged in each
// hour of [from, to), zero-filled. from (RFC 3339) is rounded down to its
// UTC hour and to up to its; they default to the 24 hours that end with
// the current hour. The range is 1 to MaxUsageHours hours.
func (h *Handler) getUsage(w http.ResponseWriter, r *http.Request) {
	q, err := h.reader.Query(r, "from", "to")
	if err != nil {
		h.fail(w, err)
		return
	}
	app, ok := h.pathApp(w, r)
	if !ok {
		return
	}
	from, to, err := h.usageRange(q)
	if err != nil {
		h.fail(w, err)
		return
	}
	hours, err := h.cfg.Billing.HourlyUsage(r.Context(), app.ID, from, to)
	if err != nil {
		h.fail(w, err)
		return
	}
	n := int(to.Sub(from) / time.Hour)
	out := usageJSON{AppID: app.ID, From: from, To: to, StepSeconds: 3600, Buckets: make([]bucketJSON, n)}
	for i := range out.Buckets {
		out.Buckets[i].Start = from.Add(time.Duration(i) * time.Hour)
	}
	for _, u := range hours {
		k := u.Start.Sub(from) / time.Hour
		if k < 0 || int(k) >= n || !u.Start.Equal(from.Add(k*time.Hour)) {
			h.fail(w, fmt.Errorf("admin: usage hour %v is not one of [%v, %v)", u.Start, from, to))
			return
		}
		out.Buckets[k].Bytes += u.Bytes
		out.Total += u.Bytes
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// usageRange returns the whole UTC hours [from, to) the usage query q
// asks for.
func (h *Handler) usageRange(q url.Values) (from, to time.Time, err error) {
	parse := func(name, v string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time such as 2025-01-02T15:00:00Z", h.cfg.Kinds.BadRequest, name, httpx.Clip(v))
		}
		if t.Before(minUsageTime) || !t.Before(maxUsageTime) {
			return time.Time{}, fmt.Errorf("%w: %s %q is outside the years 1970 to 2199", h.cfg.Kinds.BadRequest, name, httpx.Clip(v))
		}
		return t.UTC(), nil
	}
	to = h.cfg.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	if q.Has("to") {
		if to, err = parse("to", q.Get("to")); err != nil {
			return
		}
		if r := to.Truncate(time.Hour); !r.Equal(to) {
			to = r.Add(time.Hour)
		}
	}
	from = to.Add(-DefaultUsageHours * time.Hour)
	if q.Has("from") {
		if from, err = parse("from", q.Get("from")); err != nil {
			return
		}
		from = from.Truncate(time.Hour)
	}
	if hours := to.Sub(from) / time.Hour; hours < 1 || hours > MaxUsageHours {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: the range from %s to %s is %d hours; it must be 1 to %d",
			h.cfg.Kinds.BadRequest, from.Format(time.RFC3339), to.Format(time.RFC3339), int64(hours), MaxUsageHours)
	}
	return from, to, nil
}
