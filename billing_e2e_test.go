package turnkit_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/store"
)

func meterFast(c *turnkit.Config) { c.Relay.UsageInterval = 20 * time.Millisecond }

// TestUsageChargedExactly relays known payloads both ways, over UDP and
// TCP, and checks that the session's totals and the ledger's usage entries
// equal the payload bytes exactly.
func TestUsageChargedExactly(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			ctx := context.Background()
			tk := newTestKit(t, allowEcho, meterFast)
			peer := turntest.Echo(t, echoIP)
			c := tk.dialCred(network, tk.credentials(""))
			rc, err := c.allocate()
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			for i := range 30 {
				msg := bytes.Repeat([]byte("x"), 5+i*37)
				roundTrip(t, rc, peer, msg)
				want += int64(len(msg))
				if i%10 == 9 { // let a periodic delta go out, so the session is charged in several
					before := len(usageEntries(t, tk))
					eventually(t, "a periodic usage delta", func() bool { return len(usageEntries(t, tk)) > before })
				}
			}
			_ = rc.Close()
			eventually(t, "the session to close", func() bool {
				n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
				return err == nil && n == 0
			})
			entries, err := tk.Ledger().Entries(ctx, tk.app.App.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var charged int64
			var session string
			usage := 0
			for _, e := range entries {
				if e.Kind == "usage" {
					usage++
					charged -= e.Subscription + e.PAYG
					session = strings.Split(e.Ref, ":")[1]
				}
			}
			if charged != 2*want {
				t.Fatalf("ledger charged %d bytes in %d entries, want %d (each payload to the peer and back)", charged, usage, 2*want)
			}
			s, err := tk.Store().Session(ctx, session)
			if err != nil {
				t.Fatal(err)
			}
			if s.ToPeer != want || s.ToClient != want || s.Active() {
				t.Fatalf("session %+v, want %d bytes each way and ended", s, want)
			}
			journalMatches(t, tk.Ledger(), tk.Store(), tk.app.App.ID)
		})
	}
}

// usageEntries returns the usage entries of the test app's journal.
func usageEntries(t *testing.T, tk *testKit) []store.LedgerEntry {
	t.Helper()
	entries, err := tk.Ledger().Entries(context.Background(), tk.app.App.ID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.LedgerEntry
	for _, e := range entries {
		if e.Kind == "usage" {
			out = append(out, e)
		}
	}
	return out
}

// TestPaymentRequired: with billing enforced, an app without balance gets
// 402 with the amount in the detail; after a top-up it gets credentials.
func TestPaymentRequired(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.Billing = turnkit.BillingConfig{Enforce: true, WelcomeBytes: -1}
	})
	body := fmt.Sprintf(`{"key": %q}`, tk.app.Key)
	status, res := tk.post(body)
	if status != http.StatusPaymentRequired || !strings.Contains(res.Detail, "0 bytes") {
		t.Fatalf("no balance: status %d detail %q, want 402 naming the balance", status, res.Detail)
	}
	if _, err := tk.Ledger().TopUp(ctx, tk.app.App.ID, 1000, "small"); err != nil {
		t.Fatal(err)
	}
	if status, res := tk.post(body); status != http.StatusOK {
		t.Fatalf("after a top-up: status %d %q", status, res.Detail)
	}
	// A long TTL needs 5 GB per extra hour: 1000 bytes are not enough.
	status, res = tk.post(fmt.Sprintf(`{"key": %q, "expiry_ttl": 70}`, tk.app.Key))
	if status != http.StatusPaymentRequired || !strings.Contains(res.Detail, "5000000000") {
		t.Fatalf("long TTL: status %d detail %q, want 402 with the 5 GB reserve", status, res.Detail)
	}
	// Usage pushes the balance to zero: refused again until a top-up.
	if err := tk.Store().OpenSession(ctx, store.Session{ID: "s", AppID: tk.app.App.ID, Username: "u", RelayID: "r", StartedAt: tk.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Ledger().Charge(ctx, store.Usage{SessionID: "s", Seq: 1, AppID: tk.app.App.ID, ToPeer: 1200}); err != nil {
		t.Fatal(err)
	}
	if status, _ := tk.post(body); status != http.StatusPaymentRequired {
		t.Fatalf("negative balance: status %d, want 402", status)
	}
}

// TestWelcomeCredit: with billing enforced, a new app starts with 1 GB.
func TestWelcomeCredit(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) { c.Billing.Enforce = true })
	b, err := tk.Ledger().Balance(context.Background(), tk.app.App.ID)
	if err != nil || b.PAYG != turnkit.GB {
		t.Fatalf("balance %+v (%v), want 1 GB PAYG", b, err)
	}
	if status, res := tk.post(fmt.Sprintf(`{"key": %q}`, tk.app.Key)); status != http.StatusOK {
		t.Fatalf("status %d %q", status, res.Detail)
	}
}
