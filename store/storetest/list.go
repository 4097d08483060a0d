package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// testList checks the optional listing capabilities (store.AppLister,
// store.ActiveSessionLister, store.HourlyUsageLister), each for a store
// that has it.
func testList(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"AppsInByteOrderAcrossPages", func(t *testing.T, s store.Store) {
			l := capability[store.AppLister](t, s)
			ids := []string{"a-1", "Z", "ab", "0", "a", "B"} // byte order: 0 B Z a a-1 ab
			for i, id := range ids {
				app := newApp(id)
				app.CreatedAt = at(i)
				if id == "a" {
					app.Regions = []string{"eu", "us-east"}
				}
				mustCreateApp(t, s, app)
			}
			if err := s.SetAppStatus(t.Context(), "Z", store.AppPaused); err != nil {
				t.Fatal(err)
			}
			var got []store.App
			after := ""
			for page := 0; ; page++ {
				apps := mustListApps(t, l, after, 2)
				if page > len(ids) {
					t.Fatalf("ListApps did not end after %d pages", page)
				}
				got = append(got, apps...)
				if len(apps) < 2 {
					break
				}
				after = apps[len(apps)-1].ID
			}
			want := []string{"0", "B", "Z", "a", "a-1", "ab"}
			if gotIDs := appIDs(got); !slices.Equal(gotIDs, want) {
				t.Fatalf("ListApps pages gave %v, want %v", gotIDs, want)
			}
			for _, app := range got {
				w := newApp(app.ID)
				w.CreatedAt = at(slices.Index(ids, app.ID))
				if app.ID == "Z" {
					w.Status = store.AppPaused
				}
				checkApp(t, app, w)
				wantRegions := []string(nil)
				if app.ID == "a" {
					wantRegions = []string{"eu", "us-east"}
				}
				if !slices.Equal(app.Regions, wantRegions) {
					t.Errorf("app %s Regions = %q, want %q", app.ID, app.Regions, wantRegions)
				}
			}
		}},
		{"AppsAfterAnAbsentID", func(t *testing.T, s store.Store) {
			l := capability[store.AppLister](t, s)
			for _, id := range []string{"c", "a", "e"} {
				mustCreateApp(t, s, newApp(id))
			}
			if got := appIDs(mustListApps(t, l, "b", 10)); !slices.Equal(got, []string{"c", "e"}) {
				t.Errorf("ListApps after b = %v, want [c e]", got)
			}
			if got := mustListApps(t, l, "e", 10); got == nil || len(got) != 0 {
				t.Errorf("ListApps after the last = %v, want an empty slice", got)
			}
			if got := appIDs(mustListApps(t, l, "", 1000000)); !slices.Equal(got, []string{"a", "c", "e"}) {
				t.Errorf("ListApps with a limit over the count = %v, want every app", got)
			}
		}},
		{"AppsEmptyAndBadLimit", func(t *testing.T, s store.Store) {
			l := capability[store.AppLister](t, s)
			if got := mustListApps(t, l, "", 10); got == nil || len(got) != 0 {
				t.Errorf("ListApps of an empty store = %v, want an empty slice", got)
			}
			mustCreateApp(t, s, newApp("a"))
			for _, limit := range []int{0, -1} {
				if _, err := l.ListApps(t.Context(), "", limit); err == nil {
					t.Errorf("ListApps with limit %d: no error", limit)
				}
			}
		}},
		{"ActiveSessionsPerAppAndAll", func(t *testing.T, s store.Store) {
			l := capability[store.ActiveSessionLister](t, s)
			for _, id := range []string{"s5", "s1", "s3", "s2", "s4", "s6"} {
				app := "a"
				if id == "s2" || id == "s6" {
					app = "b"
				}
				mustOpenSession(t, s, newSession(id, app))
			}
			closed := newSession("s0", "a")
			closed.EndedAt = at(5)
			mustOpenSession(t, s, closed)
			if err := s.CloseSession(t.Context(), "s3", at(9)); err != nil {
				t.Fatal(err)
			}
			if got := sessionIDs(mustActiveSessions(t, l, "a", "", 10)); !slices.Equal(got, []string{"s1", "s4", "s5"}) {
				t.Errorf("ActiveSessions(a) = %v, want [s1 s4 s5]", got)
			}
			if got := sessionIDs(mustActiveSessions(t, l, "b", "", 10)); !slices.Equal(got, []string{"s2", "s6"}) {
				t.Errorf("ActiveSessions(b) = %v, want [s2 s6]", got)
			}
			var all []store.Session
			after := ""
			for range 10 {
				page := mustActiveSessions(t, l, "", after, 2)
				all = append(all, page...)
				if len(page) < 2 {
					break
				}
				after = page[len(page)-1].ID
			}
			if got := sessionIDs(all); !slices.Equal(got, []string{"s1", "s2", "s4", "s5", "s6"}) {
				t.Errorf("ActiveSessions of every app, by pages of 2 = %v, want [s1 s2 s4 s5 s6]", got)
			}
			if got := sessionIDs(mustActiveSessions(t, l, "a", "s1", 1)); !slices.Equal(got, []string{"s4"}) {
				t.Errorf("ActiveSessions(a) after s1, limit 1 = %v, want [s4]", got)
			}
			if got := mustActiveSessions(t, l, "none", "", 10); got == nil || len(got) != 0 {
				t.Errorf("ActiveSessions of an app without sessions = %v, want an empty slice", got)
			}
			if n, err := s.CloseRelaySessions(t.Context(), "relay1", "another instance", at(10)); err != nil || n != 5 {
				t.Fatalf("CloseRelaySessions = %d, %v", n, err)
			}
			if got := mustActiveSessions(t, l, "", "", 10); len(got) != 0 {
				t.Errorf("ActiveSessions after the relay's sessions closed = %v, want none", sessionIDs(got))
			}
			for _, limit := range []int{0, -3} {
				if _, err := l.ActiveSessions(t.Context(), "", "", limit); err == nil {
					t.Errorf("ActiveSessions with limit %d: no error", limit)
				}
			}
		}},
		{"ActiveSessionFields", func(t *testing.T, s store.Store) {
			l := capability[store.ActiveSessionLister](t, s)
			sess := newSession("s1", "a")
			sess.Instance, sess.Gateway, sess.KeyID = "inst1", "gw-tag", "key1"
			sess.Metadata = store.Metadata{Room: "room <1>", Initiator: "alice", Receiver: "bob"}
			mustOpenSession(t, s, sess)
			u := store.Usage{SessionID: "s1", Seq: 1, AppID: "a", ToPeer: 1200, ToClient: 34, At: at(1)}
			mustApplyUsage(t, s, u, true)
			sess.ToPeer, sess.ToClient = 1200, 34
			got := mustActiveSessions(t, l, "a", "", 10)
			if len(got) != 1 {
				t.Fatalf("ActiveSessions = %v, want [s1]", sessionIDs(got))
			}
			checkSession(t, got[0], sess)
		}},
		{"HourlyUsageSumsTheJournal", func(t *testing.T, s store.Store) {
			h := capability[store.HourlyUsageLister](t, s)
			from := at(0).UTC().Truncate(time.Hour)
			to := from.Add(5 * time.Hour)
			seedSubscription(t, s, "a", 500) // some charges split across the buckets
			charge := func(app, session string, seq uint64, when time.Time, n int64) {
				t.Helper()
				mustApplyUsage(t, s, store.Usage{SessionID: session, Seq: seq, AppID: app, ToPeer: n, At: when}, true)
			}
			charge("a", "s1", 1, from.Add(-time.Millisecond), 1)            // before the range
			charge("a", "s1", 2, from, 300)                                 // first instant of hour 0
			charge("a", "s1", 3, from.Add(time.Hour-time.Millisecond), 400) // last of hour 0
			charge("a", "s2", 1, from.Add(time.Hour), 20)                   // first of hour 1
			charge("a", "s2", 2, from.Add(3*time.Hour+30*time.Minute), 7)   // hour 3
			charge("a", "s2", 3, to.Add(-time.Millisecond), 5000)           // last of hour 4
			charge("a", "s2", 4, to, 9)                                     // after the range
			charge("b", "s3", 1, from.Add(time.Minute), 100000)             // another app
			if ok, err := s.Apply(t.Context(), "a", "top", func(b *store.Balance) ([]store.LedgerEntry, error) {
				b.PAYG += 1000
				return []store.LedgerEntry{{At: from.Add(time.Minute), Kind: "topup", Ref: "top", PAYG: 1000}}, nil
			}); err != nil || !ok {
				t.Fatalf("Apply(top-up): %v, %v", ok, err)
			}
			// The same range asked in another zone is the same instants.
			got := mustHourlyUsage(t, h, "a", from.In(time.FixedZone("UTC-07", -7*3600)), to)
			want := []store.UsageHour{
				{Start: from, Bytes: 700, Entries: 2},
				{Start: from.Add(time.Hour), Bytes: 20, Entries: 1},
				{Start: from.Add(3 * time.Hour), Bytes: 7, Entries: 1},
				{Start: from.Add(4 * time.Hour), Bytes: 5000, Entries: 1},
			}
			checkUsageHours(t, got, want)
			checkUsageHours(t, got, journalHours(t, s, "a", from, to))
		}},
		{"HourlyUsageFromAnyInstant", func(t *testing.T, s store.Store) {
			h := capability[store.HourlyUsageLister](t, s)
			from := at(0).UTC().Truncate(time.Hour).Add(30 * time.Minute)
			for i, off := range []time.Duration{10 * time.Minute, 50 * time.Minute, 61 * time.Minute, 150 * time.Minute} {
				mustApplyUsage(t, s, store.Usage{SessionID: "s", Seq: uint64(i + 1), AppID: "a", ToClient: int64(i + 1), At: from.Add(off)}, true)
			}
			got := mustHourlyUsage(t, h, "a", from, from.Add(3*time.Hour))
			checkUsageHours(t, got, []store.UsageHour{
				{Start: from, Bytes: 1 + 2, Entries: 2},
				{Start: from.Add(time.Hour), Bytes: 3, Entries: 1},
				{Start: from.Add(2 * time.Hour), Bytes: 4, Entries: 1},
			})
			checkUsageHours(t, got, journalHours(t, s, "a", from, from.Add(3*time.Hour)))
		}},
		{"HourlyUsageEmptyAndBadRanges", func(t *testing.T, s store.Store) {
			h := capability[store.HourlyUsageLister](t, s)
			from := at(0).UTC().Truncate(time.Hour)
			mustApplyUsage(t, s, store.Usage{SessionID: "s", Seq: 1, AppID: "a", ToPeer: 5, At: from.Add(time.Minute)}, true)
			for name, r := range map[string][2]time.Time{
				"no usage in the range": {from.Add(time.Hour), from.Add(48 * time.Hour)},
				"an empty range":        {from, from},
			} {
				if got := mustHourlyUsage(t, h, "a", r[0], r[1]); got == nil || len(got) != 0 {
					t.Errorf("HourlyUsage over %s = %+v, want an empty slice", name, got)
				}
			}
			if got := mustHourlyUsage(t, h, "other", from, from.Add(time.Hour)); len(got) != 0 {
				t.Errorf("HourlyUsage of another app = %+v, want none", got)
			}
			for name, r := range map[string][2]time.Time{
				"end before start": {from.Add(time.Hour), from},
				"zero start":       {{}, from},
				"zero end":         {from, {}},
			} {
				if _, err := h.HourlyUsage(t.Context(), "a", r[0], r[1]); err == nil {
					t.Errorf("HourlyUsage with %s: no error", name)
				}
			}
		}},
	})
}

func mustListApps(t *testing.T, l store.AppLister, after string, limit int) []store.App {
	t.Helper()
	apps, err := l.ListApps(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("ListApps(%q, %d): %v", after, limit, err)
	}
	if len(apps) > limit {
		t.Fatalf("ListApps(%q, %d) returned %d apps", after, limit, len(apps))
	}
	return apps
}

func mustActiveSessions(t *testing.T, l store.ActiveSessionLister, appID, after string, limit int) []store.Session {
	t.Helper()
	list, err := l.ActiveSessions(t.Context(), appID, after, limit)
	if err != nil {
		t.Fatalf("ActiveSessions(%q, %q, %d): %v", appID, after, limit, err)
	}
	if len(list) > limit {
		t.Fatalf("ActiveSessions(%q, %q, %d) returned %d sessions", appID, after, limit, len(list))
	}
	for _, sess := range list {
		if !sess.Active() || (appID != "" && sess.AppID != appID) {
			t.Errorf("ActiveSessions(%q) returned session %s of app %s, ended %v", appID, sess.ID, sess.AppID, sess.EndedAt)
		}
	}
	return list
}

func mustHourlyUsage(t *testing.T, h store.HourlyUsageLister, appID string, from, to time.Time) []store.UsageHour {
	t.Helper()
	hours, err := h.HourlyUsage(t.Context(), appID, from, to)
	if err != nil {
		t.Fatalf("HourlyUsage(%q, %v, %v): %v", appID, from, to, err)
	}
	return hours
}

// journalHours sums the app's usage entries of [from, to) by hour from
// from, reading the whole journal: the reference HourlyUsage must match.
func journalHours(t *testing.T, s store.Store, app string, from, to time.Time) []store.UsageHour {
	t.Helper()
	byHour := map[int64]*store.UsageHour{}
	for _, e := range allEntries(t, s, app) {
		if e.Kind != "usage" || e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		k := int64(e.At.Sub(from) / time.Hour)
		u := byHour[k]
		if u == nil {
			u = &store.UsageHour{Start: from.Add(time.Duration(k) * time.Hour)}
			byHour[k] = u
		}
		u.Bytes -= e.Subscription + e.PAYG
		u.Entries++
	}
	out := []store.UsageHour{}
	for _, k := range slices.Sorted(maps.Keys(byHour)) {
		out = append(out, *byHour[k])
	}
	return out
}

func checkUsageHours(t *testing.T, got, want []store.UsageHour) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("HourlyUsage gave %d hours %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Bytes != want[i].Bytes || got[i].Entries != want[i].Entries {
			t.Errorf("hour %d: %d bytes in %d entries, want %d in %d", i, got[i].Bytes, got[i].Entries, want[i].Bytes, want[i].Entries)
		}
		checkTime(t, "hour start", got[i].Start, want[i].Start)
	}
}

func appIDs(apps []store.App) []string {
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	return ids
}

func sessionIDs(list []store.Session) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}
