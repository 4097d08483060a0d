package turnkit_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/browsertest"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/store"
)

// dashboardToken is the admin token of the dashboard test.
const dashboardToken = "tka_dashboard-test-token-0123456789"

// TestDashboard relays a known transfer through the Kit's relay with
// pion's client, waits until the ledger charged it, keeps a second session
// open, then opens the dashboard in headless Chromium with the admin
// token in the fragment: the app's page shows its name as text, a balance,
// a usage chart whose uPlot data equals the journal's usage, the live
// session and the healthy relay; the token left the address bar and no
// cookie was set; the console stays clean. The apps page lists the app.
//
// With TURNKIT_SCREENSHOTS set to a directory (relative to the repository
// root, where this test runs: TURNKIT_SCREENSHOTS=docs), the app's page is
// saved there as dashboard.png.
func TestDashboard(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho, meterFast, func(c *turnkit.Config) { c.AdminToken = dashboardToken })
	mux := http.NewServeMux()
	mux.Handle("/admin/", tk.AdminHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	const name = `Demo <script>window.pwned = 1</script> & "co"`
	demo, err := tk.CreateApp(ctx, turnkit.NewApp{ID: "demo", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Ledger().TopUp(ctx, "demo", 5*turnkit.GB, "invoice-1"); err != nil {
		t.Fatal(err)
	}
	// Earlier sessions' usage over the last day, charged as the relay's
	// deltas are (Ledger.Charge), at the hours they happened.
	start := tk.clock.Now()
	var history int64
	for h := 20; h >= 1; h-- {
		tk.clock.Advance(-time.Duration(h) * time.Hour)
		n := int64(4000 + 2500*((h*7)%5) + 300*h)
		if _, err := tk.Ledger().Charge(ctx, store.Usage{SessionID: fmt.Sprintf("earlier-%d", h), Seq: 1, AppID: "demo", ToPeer: n / 2, ToClient: n - n/2}); err != nil {
			t.Fatal(err)
		}
		history += n
		tk.clock.Advance(time.Duration(h) * time.Hour)
	}
	if !tk.clock.Now().Equal(start) {
		t.Fatal("the clock did not come back")
	}
	peer := turntest.Echo(t, echoIP)
	transfer := func(room string, payloads int) (int64, *turnClient) {
		t.Helper()
		cred, err := issueWithKey(ctx, tk.Kit, demo.Key, turnkit.CredentialRequest{Metadata: turnkit.Metadata{Room: room, Initiator: "alice", Receiver: "bob"}})
		if err != nil {
			t.Fatal(err)
		}
		c := tk.dialTURN("udp", cred.Username, cred.Password)
		rc, err := c.allocate()
		if err != nil {
			t.Fatal(err)
		}
		var sent int64
		for i := range payloads {
			msg := bytes.Repeat([]byte("d"), 200+i*50)
			roundTrip(t, rc, peer, msg)
			sent += int64(len(msg))
		}
		if room == "finished" {
			_ = rc.Close()
		}
		return 2 * sent, c // each byte to the peer and back
	}
	usage := func() (n int64) {
		for _, e := range usageEntriesOf(t, tk, "demo") {
			n -= e.Subscription + e.PAYG
		}
		return n
	}
	first, _ := transfer("finished", 20)
	eventually(t, "the first session to close with its usage charged", func() bool {
		n, err := tk.Store().CountActiveSessions(ctx, "demo")
		return err == nil && n == 0 && usage() == history+first
	})
	second, _ := transfer("live", 8)
	eventually(t, "the live session's usage to be charged", func() bool { return usage() == history+first+second })
	if err := tk.Sweep(ctx); err != nil { // a fresh load report
		t.Fatal(err)
	}

	b := browsertest.Start(t, browsertest.Options{ViewportWidth: 1280, ViewportHeight: 900})
	if err := b.Open(srv.URL + "/admin/#token=" + dashboardToken + "&app=demo"); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Hash, Title, Meta, Stored, Cookie, UsageTotal string
		Pwned, ScriptsInTitle                         bool
		Points, Series                                int
		ChartSum                                      int64
		X                                             []int64
		Y                                             []*int64
		Balance                                       []string
		Sessions, Relays                              [][]string
		Visible                                       bool
	}
	err = b.Eval(`window.turnkitAdmin.rendered.then(() => {
		const rows = (id) => [...document.querySelectorAll("#" + id + " tbody tr")].map(tr => [...tr.cells].map(td => td.textContent));
		const u = window.turnkitAdmin.chart;
		return {
			hash: location.hash, title: document.getElementById("app-title").textContent,
			meta: document.getElementById("app-meta").textContent,
			stored: sessionStorage.getItem("turnkit-admin-token"), cookie: document.cookie,
			usageTotal: document.getElementById("usage-total").textContent,
			pwned: window.pwned !== undefined, scriptsInTitle: document.querySelector("#app-title script, #app-view script") !== null,
			points: u ? u.data[0].length : -1, series: u ? u.data.length : -1,
			chartSum: u ? u.data[1].reduce((a, b) => a + (b || 0), 0) : -1,
			x: u ? u.data[0] : [], y: u ? u.data[1] : [],
			balance: [...document.querySelectorAll("#balance dd")].map(d => d.textContent),
			sessions: rows("sessions-table"), relays: rows("app-relays"),
			visible: !document.getElementById("app-view").hidden,
		};
	})`, &page)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dashboard: %+v", page)
	if !page.Visible || page.Title != name || page.Pwned || page.ScriptsInTitle || !strings.Contains(page.Meta, "active") {
		t.Errorf("the app's heading %q (visible %v, markup run %v/%v), want the name as text", page.Title, page.Visible, page.Pwned, page.ScriptsInTitle)
	}
	if page.Hash != "#app=demo" || page.Stored != dashboardToken || page.Cookie != "" {
		t.Errorf("after load: fragment %q, stored token %v, cookie %q; want the token moved out of the address bar into session storage", page.Hash, page.Stored == dashboardToken, page.Cookie)
	}
	if page.Series != 2 || page.Points < 24 || page.ChartSum != history+first+second {
		t.Errorf("the chart holds %d series of %d points summing to %d bytes, want 2 of at least 24 summing to %d",
			page.Series, page.Points, page.ChartSum, history+first+second)
	}
	// Each point is the journal's usage of its hour.
	byHour := map[int64]int64{}
	for _, e := range usageEntriesOf(t, tk, "demo") {
		byHour[e.At.Truncate(time.Hour).Unix()] -= e.Subscription + e.PAYG
	}
	if len(page.X) != len(page.Y) || len(page.X) != page.Points {
		t.Fatalf("chart data: %d x and %d y values", len(page.X), len(page.Y))
	}
	for i, x := range page.X {
		if page.Y[i] == nil || *page.Y[i] != byHour[x] {
			t.Errorf("chart point %d (%s): %v bytes, the journal says %d", i, time.Unix(x, 0).UTC().Format(time.RFC3339), page.Y[i], byHour[x])
		}
	}
	if !strings.Contains(page.UsageTotal, "kB") {
		t.Errorf("usage total %q, want it in kB", page.UsageTotal)
	}
	if len(page.Balance) == 0 || !strings.HasPrefix(page.Balance[0], "5.00 GB") {
		t.Errorf("balance %q, want a total just under 5 GB", page.Balance)
	}
	if len(page.Sessions) != 1 || len(page.Sessions[0]) != 9 || page.Sessions[0][1] != tk.Relay().ID() || page.Sessions[0][2] != "udp" ||
		page.Sessions[0][5] != "live" || page.Sessions[0][6] != "alice → bob" {
		t.Errorf("live sessions %q, want the one live session on the relay", page.Sessions)
	}
	if len(page.Relays) != 1 || !strings.HasPrefix(page.Relays[0][0], tk.Relay().ID()) || !strings.HasPrefix(page.Relays[0][2], "healthy") {
		t.Errorf("relays %q, want the in-process relay, healthy", page.Relays)
	}
	shot, err := b.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if dir := os.Getenv("TURNKIT_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "dashboard.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The apps page lists the app, its name as text, linked to its page.
	var apps struct {
		Rows  [][]string
		Links []string
	}
	err = b.Eval(`new Promise(r => { window.addEventListener("hashchange", r, {once: true}); location.hash = ""; })
		.then(() => window.turnkitAdmin.rendered).then(() => ({
		rows: [...document.querySelectorAll("#apps-table tbody tr")].map(tr => [...tr.cells].map(td => td.textContent)),
		links: [...document.querySelectorAll("#apps-table a")].map(a => a.getAttribute("href")),
	}))`, &apps)
	if err != nil {
		t.Fatal(err)
	}
	var demoRow []string
	for _, r := range apps.Rows {
		if r[0] == "demo" {
			demoRow = r
		}
	}
	if demoRow == nil || demoRow[1] != name || demoRow[2] != "active" || !slices.Contains(apps.Links, "#app=demo") {
		t.Errorf("apps page rows %q, links %q; want the demo app linked to #app=demo", apps.Rows, apps.Links)
	}
	b.RequireNoErrors(t)

	// Sign out, then sign in with the form: a wrong token is refused (the
	// API's 401 is the only console error), the right one shows the apps.
	var login struct {
		Shown   bool
		Stored  *string
		Message string
		Apps    int
	}
	signIn := func(token string) {
		t.Helper()
		err := b.Eval(`(() => {
			document.getElementById("token-input").value = `+strconv.Quote(token)+`;
			document.getElementById("login-form").requestSubmit();
			return window.turnkitAdmin.rendered;
		})().then(() => ({
			shown: !document.getElementById("login").hidden, stored: sessionStorage.getItem("turnkit-admin-token"),
			message: document.getElementById("login-message").textContent,
			apps: document.querySelectorAll("#apps-table tbody tr a").length,
		}))`, &login)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Eval(`document.getElementById("signout").click(), !document.getElementById("login").hidden && sessionStorage.length === 0`, &login.Shown); err != nil || !login.Shown {
		t.Fatalf("sign out: the form is shown and the token gone: %v, %v", login.Shown, err)
	}
	signIn("tka_not-the-admin-token-0123456789")
	if !login.Shown || login.Stored != nil || !strings.Contains(login.Message, "refused") {
		t.Errorf("a wrong token: form shown %v, token kept %v, message %q; want it refused and forgotten", login.Shown, login.Stored != nil, login.Message)
	}
	errs, err := b.Errors()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range errs {
		if m.Source != "network" || !strings.Contains(m.Text, "401") {
			t.Errorf("console: %s", m)
		}
	}
	signIn(dashboardToken)
	if login.Shown || login.Stored == nil || *login.Stored != dashboardToken || login.Apps == 0 {
		t.Errorf("the right token: form shown %v, apps listed %d", login.Shown, login.Apps)
	}
}

// usageEntriesOf returns the usage entries of an app's journal.
func usageEntriesOf(t *testing.T, tk *testKit, appID string) []store.LedgerEntry {
	t.Helper()
	entries, err := tk.Ledger().Entries(context.Background(), appID, 0, 10000)
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
