package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/store"
)

// balanceOut is the JSON of a balance.
type balanceOut struct {
	AppID        string  `json:"app_id"`
	Subscription int64   `json:"subscription"`
	PAYG         int64   `json:"payg"`
	Total        int64   `json:"total"`
	Allowance    int64   `json:"allowance"`
	PeriodStart  *string `json:"period_start"`
	LowThreshold int64   `json:"low_threshold"`
	LowNotified  bool    `json:"low_notified"`
}

// topUpOut is the JSON of a top-up's answer.
type topUpOut struct {
	Applied   bool       `json:"applied"`
	Reference string     `json:"reference"`
	Bytes     int64      `json:"bytes"`
	Balance   balanceOut `json:"balance"`
}

// TestBalance shows both buckets, the plan and the threshold as the
// ledger holds them.
func TestBalance(t *testing.T) {
	e := newEnv(t, noRelay)
	e.createApp("a1", "")
	ctx := context.Background()
	if err := e.kit.Ledger().SetPlan(ctx, "a1", 5*turnkit.GB); err != nil {
		t.Fatal(err)
	}
	if err := e.kit.Ledger().SetLowBalanceThreshold(ctx, "a1", turnkit.GB); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kit.Ledger().TopUp(ctx, "a1", 123, "p1"); err != nil {
		t.Fatal(err)
	}
	var b balanceOut
	e.get("/admin/api/apps/a1/balance").must(t, http.StatusOK).decode(t, &b)
	if b.AppID != "a1" || b.Subscription != 5*turnkit.GB || b.PAYG != 123 || b.Total != 5*turnkit.GB+123 ||
		b.Allowance != 5*turnkit.GB || b.PeriodStart == nil || b.LowThreshold != turnkit.GB || b.LowNotified {
		t.Fatalf("balance %+v", b)
	}
	var fresh balanceOut
	e.createApp("a2", "")
	e.get("/admin/api/apps/a2/balance").must(t, http.StatusOK).decode(t, &fresh)
	if fresh.Total != 0 || fresh.PeriodStart != nil {
		t.Fatalf("a new app's balance %+v", fresh)
	}
	if a := e.get("/admin/api/apps/zz/balance"); a.status != http.StatusNotFound {
		t.Fatalf("balance of an unknown app: %d, want 404", a.status)
	}
	if a := e.get("/admin/api/apps/a1/balance?at=now"); a.status != http.StatusBadRequest {
		t.Fatalf("balance with a query: %d, want 400", a.status)
	}
}

// TestTopUpOnce: a top-up applies once per reference, however often and
// however concurrently it is sent, and whatever amount the repeats name.
func TestTopUpOnce(t *testing.T) {
	e := newEnv(t, noRelay)
	e.createApp("a1", "")
	var first topUpOut
	e.post("/admin/api/apps/a1/topups", `{"bytes": 1000000000, "reference": "pay_1"}`).must(t, http.StatusCreated).decode(t, &first)
	if !first.Applied || first.Balance.PAYG != turnkit.GB || first.Reference != "pay_1" || first.Bytes != turnkit.GB {
		t.Fatalf("first top-up %+v", first)
	}
	var again topUpOut
	e.post("/admin/api/apps/a1/topups", `{"bytes": 7, "reference": "pay_1"}`).must(t, http.StatusOK).decode(t, &again)
	if again.Applied || again.Balance.PAYG != turnkit.GB {
		t.Fatalf("the same reference again: %+v, want nothing applied", again)
	}

	// 16 requests at once with one new reference: one applies.
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = e.post("/admin/api/apps/a1/topups", `{"bytes": 500, "reference": "pay_2"}`).status
		})
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("a concurrent top-up answered %d", s)
		}
	}
	if created != 1 {
		t.Fatalf("%d of the concurrent top-ups with one reference applied, want 1", created)
	}
	// The same reference on another app is another top-up.
	e.createApp("a2", "")
	e.post("/admin/api/apps/a2/topups", `{"bytes": 9, "reference": "pay_1"}`).must(t, http.StatusCreated)

	entries, err := e.kit.Ledger().Entries(context.Background(), "a1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var topups, sum int64
	for _, en := range entries {
		if en.Kind == "topup" {
			topups++
			sum += en.PAYG
		}
	}
	if topups != 2 || sum != turnkit.GB+500 {
		t.Fatalf("the journal has %d top-ups of %d bytes, want 2 of %d", topups, sum, turnkit.GB+500)
	}
	var b balanceOut
	e.get("/admin/api/apps/a1/balance").must(t, http.StatusOK).decode(t, &b)
	if b.PAYG != turnkit.GB+500 {
		t.Fatalf("balance %d, want %d", b.PAYG, turnkit.GB+500)
	}
}

// TestTopUpRefused: amounts that are not whole positive byte counts within
// the bound, and references that are not printable tokens, get 400 and
// change nothing.
func TestTopUpRefused(t *testing.T) {
	e := newEnv(t, noRelay)
	e.createApp("a1", "")
	cases := map[string]string{
		"negative":            `{"bytes": -5, "reference": "r1"}`,
		"zero":                `{"bytes": 0, "reference": "r1"}`,
		"fraction":            `{"bytes": 1.5, "reference": "r1"}`,
		"exponent":            `{"bytes": 1e9, "reference": "r1"}`,
		"string":              `{"bytes": "100", "reference": "r1"}`,
		"over the bound":      `{"bytes": 1000000000000001, "reference": "r1"}`,
		"over int64":          `{"bytes": 9223372036854775808, "reference": "r1"}`,
		"no bytes":            `{"reference": "r1"}`,
		"null bytes":          `{"bytes": null, "reference": "r1"}`,
		"no reference":        `{"bytes": 5}`,
		"empty reference":     `{"bytes": 5, "reference": ""}`,
		"reference with tab":  `{"bytes": 5, "reference": "r\t1"}`,
		"reference spaced":    `{"bytes": 5, "reference": "r 1"}`,
		"reference not ASCII": `{"bytes": 5, "reference": "réf"}`,
		"reference too long":  `{"bytes": 5, "reference": "` + strings.Repeat("r", 129) + `"}`,
		"unknown field":       `{"bytes": 5, "reference": "r1", "currency": "EUR"}`,
		"twice":               `{"bytes": 5, "bytes": 6, "reference": "r1"}`,
	}
	for name, body := range cases {
		if a := e.post("/admin/api/apps/a1/topups", body); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, a.status, a.body)
		}
	}
	if a := e.post("/admin/api/apps/zz/topups", `{"bytes": 5, "reference": "r1"}`); a.status != http.StatusNotFound {
		t.Errorf("unknown app: %d, want 404", a.status)
	}
	if a := e.get("/admin/api/apps/a1/topups"); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET topups: %d, want 405", a.status)
	}
	if es, _ := e.kit.Ledger().Entries(context.Background(), "a1", 0, 10); len(es) != 0 {
		t.Fatalf("refused top-ups wrote %d entries", len(es))
	}
	// The boundaries that are allowed.
	e.post("/admin/api/apps/a1/topups", `{"bytes": 1, "reference": "`+strings.Repeat("~", 128)+`"}`).must(t, http.StatusCreated)
	e.post("/admin/api/apps/a1/topups", `{"bytes": 1000000000000000, "reference": "INV-2025/001:a"}`).must(t, http.StatusCreated)
}

// usageOut is the JSON of a usage answer.
type usageOut struct {
	AppID       string    `json:"app_id"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	StepSeconds int       `json:"step_seconds"`
	Total       int64     `json:"total"`
	Buckets     []struct {
		Start time.Time `json:"start"`
		Bytes int64     `json:"bytes"`
	} `json:"buckets"`
}

// TestUsageBuckets charges usage at known times and checks that the
// hourly buckets, zeros included, equal the journal's usage entries summed
// by hour, and the defaults and bounds of the range.
func TestUsageBuckets(t *testing.T) {
	e := newEnv(t, noRelay)
	e.createApp("a1", "")
	e.createApp("a2", "")
	ctx := context.Background()
	h0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	if err := e.kit.Ledger().SetPlan(ctx, "a1", 1000); err != nil { // some charges split across the buckets
		t.Fatal(err)
	}
	charges := []struct {
		at    time.Duration
		app   string
		bytes int64
	}{
		{-time.Second, "a1", 11},                     // before the range
		{0, "a1", 300},                               // the range's first instant
		{59*time.Minute + 59*time.Second, "a1", 900}, // the last second of hour 0
		{time.Hour, "a1", 40},
		{3*time.Hour + 30*time.Minute, "a1", 5},
		{3*time.Hour + 31*time.Minute, "a2", 77777}, // another app
		{5*time.Hour + 59*time.Minute, "a1", 6000},  // the range's last hour
		{6 * time.Hour, "a1", 1},                    // after the range
	}
	for i, c := range charges {
		e.clock.Set(h0.Add(c.at))
		if ok, err := e.kit.Ledger().Charge(ctx, store.Usage{SessionID: fmt.Sprintf("s%d", i), Seq: 1, AppID: c.app, ToPeer: c.bytes - c.bytes/3, ToClient: c.bytes / 3}); err != nil || !ok {
			t.Fatalf("charge %d: %v, %v", i, ok, err)
		}
	}
	if _, err := e.kit.Ledger().TopUp(ctx, "a1", 5000, "in the range"); err != nil {
		t.Fatal(err)
	}
	// from and to inside their hours are rounded out to whole hours.
	q := url.Values{"from": {h0.Add(20 * time.Minute).Format(time.RFC3339)}, "to": {h0.Add(5*time.Hour + 10*time.Second).In(time.FixedZone("", 3600)).Format(time.RFC3339Nano)}}
	var u usageOut
	e.get("/admin/api/apps/a1/usage?"+q.Encode()).must(t, http.StatusOK).decode(t, &u)
	if !u.From.Equal(h0) || !u.To.Equal(h0.Add(6*time.Hour)) || u.StepSeconds != 3600 || u.AppID != "a1" {
		t.Fatalf("range %v to %v step %d, want %v to %v step 3600", u.From, u.To, u.StepSeconds, h0, h0.Add(6*time.Hour))
	}
	want := []int64{1200, 40, 0, 5, 0, 6000}
	if len(u.Buckets) != len(want) {
		t.Fatalf("%d buckets, want %d", len(u.Buckets), len(want))
	}
	// The reference: the journal read entry by entry.
	fromJournal := make([]int64, 6)
	entries, err := e.kit.Ledger().Entries(ctx, "a1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Kind == "usage" && !en.At.Before(h0) && en.At.Before(h0.Add(6*time.Hour)) {
			fromJournal[en.At.Sub(h0)/time.Hour] -= en.Subscription + en.PAYG
		}
	}
	var total int64
	for i, b := range u.Buckets {
		if !b.Start.Equal(h0.Add(time.Duration(i) * time.Hour)) {
			t.Errorf("bucket %d starts %v", i, b.Start)
		}
		if b.Bytes != want[i] || b.Bytes != fromJournal[i] {
			t.Errorf("bucket %d: %d bytes, want %d (the journal says %d)", i, b.Bytes, want[i], fromJournal[i])
		}
		total += b.Bytes
	}
	if u.Total != total || total != 7245 {
		t.Errorf("total %d, buckets sum to %d, want 7245", u.Total, total)
	}

	// The default: the 24 hours that end with the current one.
	e.clock.Set(h0.Add(2*time.Hour + 5*time.Minute))
	e.get("/admin/api/apps/a1/usage").must(t, http.StatusOK).decode(t, &u)
	if len(u.Buckets) != 24 || !u.To.Equal(h0.Add(3*time.Hour)) || !u.From.Equal(h0.Add(-21*time.Hour)) {
		t.Fatalf("default range %v to %v with %d buckets", u.From, u.To, len(u.Buckets))
	}
	if u.Total != 1251 || u.Buckets[20].Bytes != 11 || u.Buckets[21].Bytes != 1200 || u.Buckets[22].Bytes != 40 || u.Buckets[0].Bytes != 0 {
		t.Fatalf("default range: total %d, buckets %+v", u.Total, u.Buckets[20:])
	}
	// The longest range, and from alone.
	e.get("/admin/api/apps/a1/usage?from="+h0.Add(-740*time.Hour).Format(time.RFC3339)).must(t, http.StatusOK).decode(t, &u)
	if len(u.Buckets) != 743 || u.Total != 1251 {
		t.Fatalf("from alone: %d buckets, total %d; want 743 and 1251", len(u.Buckets), u.Total)
	}
	if a := e.get("/admin/api/apps/a1/usage?from=" + h0.Add(-742*time.Hour).Format(time.RFC3339)); a.status != http.StatusBadRequest {
		t.Fatalf("745 hours: %d, want 400", a.status)
	}

	for name, q := range map[string]string{
		"to before from":  "from=2025-03-04T10:00:00Z&to=2025-03-04T09:00:00Z",
		"empty range":     "from=2025-03-04T10:00:00Z&to=2025-03-04T10:00:00Z",
		"over 31 days":    "from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z",
		"not RFC 3339":    "from=yesterday",
		"a date only":     "from=2025-03-04",
		"unix seconds":    "from=1741082400",
		"before 1970":     "from=1969-12-31T00:00:00Z&to=1970-01-01T01:00:00Z",
		"after 2199":      "from=2200-01-01T00:00:00Z&to=2200-01-01T02:00:00Z",
		"unknown param":   "step=60",
		"repeated param":  "from=2025-03-04T10:00:00Z&from=2025-03-04T11:00:00Z",
		"script in param": "from=%3Cscript%3E",
	} {
		a := e.get("/admin/api/apps/a1/usage?" + q)
		if a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, a.status, a.body)
		}
		if strings.Contains(string(a.body), "<script>") {
			t.Errorf("%s: the detail echoes markup unescaped: %s", name, a.body)
		}
	}
	if a := e.get("/admin/api/apps/zz/usage"); a.status != http.StatusNotFound {
		t.Errorf("usage of an unknown app: %d, want 404", a.status)
	}
}
