package turnkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

// bareStore is a real store with only the methods of store.Store: none of
// its optional capabilities (listing, batching, notifications).
type bareStore struct{ store.Store }

// adminGet asks an admin handler with the token and returns the status and
// body.
func adminGet(t *testing.T, h http.Handler, token, path string) (int, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

// TestAdminUsageWithoutTheCapability: on a store without
// HourlyUsageLister, the Kit sums the journal itself, and answers exactly
// what the store's SQL answers on the same journal; listing apps needs
// AppLister and says so with 501.
func TestAdminUsageWithoutTheCapability(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "turnkit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := newClock()
	h0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	set := func(t time.Time) { clk.Advance(t.Sub(clk.Now())) }
	set(h0)
	const token = "tka_backend-test-token-0123456789"
	open := func(s store.Store) *turnkit.Kit {
		kit, err := turnkit.Open(ctx, turnkit.Config{Store: s, NoRelay: true, AdminToken: token, Now: clk.Now,
			Fleet: turnkit.FleetConfig{ReportInterval: -1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = kit.Close() })
		return kit
	}
	withSQL, bare := open(st), open(bareStore{st})
	if _, err := withSQL.CreateApp(ctx, turnkit.NewApp{ID: "a1"}); err != nil {
		t.Fatal(err)
	}
	if err := withSQL.Ledger().SetPlan(ctx, "a1", 5000); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		set(h0.Add(time.Duration(i*i) * 97 * time.Second))
		if _, err := withSQL.Ledger().Charge(ctx, store.Usage{SessionID: fmt.Sprintf("s%d", i%4), Seq: uint64(i + 1), AppID: "a1", ToPeer: int64(100 + i*31), ToClient: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := withSQL.Ledger().TopUp(ctx, "a1", 777, "p1"); err != nil {
		t.Fatal(err)
	}
	set(h0.Add(50 * time.Hour))
	hSQL, hBare := withSQL.AdminHandler(), bare.AdminHandler()
	for _, q := range []string{
		"", "?from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z", "?from=2025-06-01T00:30:00Z&to=2025-06-01T10:10:00Z",
		"?from=2025-05-31T00:00:00Z", "?from=2025-06-02T00:00:00Z&to=2025-06-03T00:00:00Z",
	} {
		s1, b1 := adminGet(t, hSQL, token, "/admin/api/apps/a1/usage"+q)
		s2, b2 := adminGet(t, hBare, token, "/admin/api/apps/a1/usage"+q)
		if s1 != http.StatusOK || s2 != http.StatusOK || !bytes.Equal(b1, b2) {
			t.Errorf("usage%s: the store's SQL answered %d %s, the journal read in Go %d %s", q, s1, b1, s2, b2)
		}
	}
	var u struct{ Total int64 }
	_, b := adminGet(t, hBare, token, "/admin/api/apps/a1/usage?from=2025-05-31T00:00:00Z")
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := range 40 {
		want += int64(100 + i*32)
	}
	if u.Total != want {
		t.Errorf("usage total %d, want %d", u.Total, want)
	}
	status, body := adminGet(t, hBare, token, "/admin/api/apps")
	if status != http.StatusNotImplemented || !strings.Contains(string(body), "AppLister") {
		t.Errorf("listing apps on a store without AppLister: %d %s, want 501 naming it", status, body)
	}
	if status, _ := adminGet(t, hSQL, token, "/admin/api/apps"); status != http.StatusOK {
		t.Errorf("listing apps on SQLite: %d", status)
	}
}

// TestAdminSessionsWithoutTheCapability: on a store without
// ActiveSessionLister, the live sessions are the in-process relay's, with
// the metadata the store holds for them.
func TestAdminSessionsWithoutTheCapability(t *testing.T) {
	ctx := context.Background()
	const token = "tka_backend-test-token-0123456789"
	tk := newTestKit(t, allowEcho, meterFast, func(c *turnkit.Config) {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bare.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		c.Store, c.AdminToken = bareStore{st}, token
	})
	cred, err := issueWithKey(ctx, tk.Kit, tk.app.Key, turnkit.CredentialRequest{Metadata: turnkit.Metadata{Room: "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := tk.dialTURN("udp", cred.Username, cred.Password).allocate()
	if err != nil {
		t.Fatal(err)
	}
	peer := turntest.Echo(t, echoIP)
	roundTrip(t, rc, peer, []byte("hello"))
	h := tk.AdminHandler()
	var page struct {
		Sessions []struct {
			AppID     string `json:"app_id"`
			InProcess bool   `json:"in_process"`
			ToPeer    int64  `json:"to_peer"`
			Metadata  struct{ Room string }
		}
	}
	eventually(t, "the session to be listed", func() bool {
		status, body := adminGet(t, h, token, "/admin/api/sessions")
		if status != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("sessions: %d %s", status, body)
		}
		return len(page.Sessions) == 1 && page.Sessions[0].Metadata.Room == "r1"
	})
	if s := page.Sessions[0]; s.AppID != tk.app.App.ID || !s.InProcess || s.ToPeer != 5 {
		t.Fatalf("session %+v", s)
	}
}

// BenchmarkAdminUsage asks for the last 24 hours of usage of an app whose
// journal holds 100,000 usage entries over 30 days: with the store's
// HourlyUsageLister (SQL over the index of usage entries by time) and on
// the same store without it (the journal read in Go, page by page).
//
//	go test -run X -bench AdminUsage .
func BenchmarkAdminUsage(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "turnkit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2025, 7, 1, 12, 30, 0, 0, time.UTC)
	const entries, span = 100_000, 30 * 24 * time.Hour
	us := make([]store.Usage, 0, 1000)
	bill := func(bal *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
		n := u.ToPeer + u.ToClient
		bal.PAYG -= n
		return []store.LedgerEntry{{At: u.At, Kind: "usage", Ref: fmt.Sprintf("usage:%s:%d", u.SessionID, u.Seq), PAYG: -n}}, nil
	}
	from := now.Truncate(time.Hour).Add(-23 * time.Hour) // the default range: 24 hours to the end of now's
	var want int64
	for i := range entries {
		at := now.Add(-span + time.Duration(i)*(span/entries))
		if !at.Before(from) {
			want += 1010
		}
		us = append(us, store.Usage{SessionID: fmt.Sprintf("s%d", i%500), Seq: uint64(i/500 + 1), AppID: "a1", ToPeer: 1000, ToClient: 10, At: at})
		if len(us) == cap(us) {
			if _, err := st.ApplyUsageBatch(ctx, us, bill); err != nil {
				b.Fatal(err)
			}
			us = us[:0]
		}
	}
	const token = "tka_backend-bench-token-0123456789"
	for _, c := range []struct {
		name string
		st   store.Store
	}{{"sql", st}, {"journal", bareStore{st}}} {
		b.Run(c.name, func(b *testing.B) {
			kit, err := turnkit.Open(ctx, turnkit.Config{Store: c.st, NoRelay: true, AdminToken: token,
				Now: func() time.Time { return now }, Fleet: turnkit.FleetConfig{ReportInterval: -1}})
			if err != nil {
				b.Fatal(err)
			}
			defer kit.Close()
			if _, err := kit.App(ctx, "a1"); err != nil {
				if _, err := kit.CreateApp(ctx, turnkit.NewApp{ID: "a1"}); err != nil {
					b.Fatal(err)
				}
			}
			h := kit.AdminHandler()
			req := httptest.NewRequest("GET", "/admin/api/apps/a1/usage", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			var total int64
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("usage: %d %s", w.Code, w.Body)
				}
				var u struct{ Total int64 }
				_ = json.Unmarshal(w.Body.Bytes(), &u)
				total = u.Total
			}
			if total != want {
				b.Fatalf("24 hours of usage: %d bytes, want %d", total, want)
			}
		})
	}
}
