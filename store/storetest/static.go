package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// testStatic checks the StaticCredentials contract: creation and its
// refusals, lookups by username and by API key hash, listing with its
// filters, order and pages, and deletion by username and by label.
func testStatic(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"CreateThenLookUp", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			want := newStatic("user1", "app1", at(1))
			want.Label, want.ExpiresAt = "lobby ✓", at(3600)
			want.APIKeyHash[0], want.APIKeyHash[31] = 0x00, 0xff // bytes a text encoding could mangle
			mustCreateStatic(t, s, want)
			got, err := s.StaticCredential(t.Context(), "user1")
			if err != nil {
				t.Fatalf("StaticCredential(user1): %v", err)
			}
			checkStatic(t, got, want)
			got, err = s.StaticCredentialByAPIKey(t.Context(), want.APIKeyHash)
			if err != nil {
				t.Fatalf("StaticCredentialByAPIKey: %v", err)
			}
			checkStatic(t, got, want)
			never := newStatic("user2", "app1", at(2))
			mustCreateStatic(t, s, never)
			got, err = s.StaticCredential(t.Context(), "user2")
			if err != nil {
				t.Fatalf("StaticCredential(user2): %v", err)
			}
			checkStatic(t, got, never)
			if got.Expired(at(1 << 20)) {
				t.Errorf("a credential without expiry reports Expired")
			}
		}},
		{"LookUpUnknown", func(t *testing.T, s store.Store) {
			_, err := s.StaticCredential(t.Context(), "user1")
			checkErr(t, "StaticCredential on an empty store", err, store.ErrNotFound)
			mustCreateApp(t, s, newApp("app1"))
			c := newStatic("user1", "app1", at(1))
			mustCreateStatic(t, s, c)
			for _, name := range []string{"user", "user10", "USER1", ""} {
				_, err := s.StaticCredential(t.Context(), name)
				checkErr(t, fmt.Sprintf("StaticCredential(%q)", name), err, store.ErrNotFound)
			}
			h := c.APIKeyHash
			h[31] ^= 1
			_, err = s.StaticCredentialByAPIKey(t.Context(), h)
			checkErr(t, "StaticCredentialByAPIKey(hash differing in the last byte)", err, store.ErrNotFound)
		}},
		{"ExpiredStillFound", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			c := newStatic("user1", "app1", at(1))
			c.ExpiresAt = at(2)
			mustCreateStatic(t, s, c)
			got, err := s.StaticCredential(t.Context(), "user1")
			if err != nil {
				t.Fatalf("StaticCredential of an expired credential: %v, want it (the caller checks expiry)", err)
			}
			if !got.Expired(at(2)) || got.Expired(at(1)) {
				t.Errorf("Expired at 1s/2s = %v/%v, want false/true", got.Expired(at(1)), got.Expired(at(2)))
			}
		}},
		{"CreateRefused", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			first := newStatic("user1", "app1", at(1))
			mustCreateStatic(t, s, first)
			sameName := newStatic("user1", "app1", at(2))
			sameName.APIKeyHash = hashOf("another key")
			checkErr(t, "CreateStaticCredential(duplicate username)", s.CreateStaticCredential(t.Context(), sameName), store.ErrExists)
			sameKey := newStatic("user2", "app1", at(2))
			sameKey.APIKeyHash = first.APIKeyHash
			checkErr(t, "CreateStaticCredential(duplicate API key hash)", s.CreateStaticCredential(t.Context(), sameKey), store.ErrExists)
			checkErr(t, "CreateStaticCredential(unknown app)",
				s.CreateStaticCredential(t.Context(), newStatic("user3", "nope", at(3))), store.ErrNotFound)
			page, total := mustListStatic(t, s, store.StaticQuery{AppID: "app1"})
			checkStatics(t, page, []store.StaticCredential{first})
			if total != 1 {
				t.Errorf("total = %d after refused creations, want 1", total)
			}
			_, err := s.StaticCredentialByAPIKey(t.Context(), sameName.APIKeyHash)
			checkErr(t, "StaticCredentialByAPIKey of a refused credential", err, store.ErrNotFound)
		}},
		{"ListOrderAndPages", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			var all []store.StaticCredential
			// Created out of order, two at the same time: the list is by
			// creation time, then username.
			for _, c := range []struct {
				name string
				sec  int
			}{{"u-c", 3}, {"u-a", 1}, {"u-e", 5}, {"u-b2", 2}, {"u-b1", 2}, {"u-d", 4}} {
				sc := newStatic(c.name, "app1", at(c.sec))
				mustCreateStatic(t, s, sc)
				all = append(all, sc)
			}
			mustCreateStatic(t, s, newStatic("other", "app2", at(0)))
			slices.SortFunc(all, func(a, b store.StaticCredential) int {
				if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
					return c
				}
				return strings.Compare(a.Username, b.Username)
			})
			page, total := mustListStatic(t, s, store.StaticQuery{AppID: "app1"})
			checkStatics(t, page, all)
			if total != len(all) {
				t.Errorf("total = %d, want %d", total, len(all))
			}
			for _, p := range []struct{ offset, limit, from, to int }{{0, 2, 0, 2}, {2, 2, 2, 4}, {4, 2, 4, 6}, {5, 10, 5, 6}, {6, 2, 6, 6}, {40, 2, 6, 6}, {3, 0, 3, 6}} {
				page, total := mustListStatic(t, s, store.StaticQuery{AppID: "app1", Offset: p.offset, Limit: p.limit})
				checkStatics(t, page, all[p.from:p.to])
				if total != len(all) {
					t.Errorf("offset %d limit %d: total = %d, want %d whatever the page", p.offset, p.limit, total, len(all))
				}
			}
			page, total = mustListStatic(t, s, store.StaticQuery{AppID: "nope"})
			if page == nil || len(page) != 0 || total != 0 {
				t.Errorf("unknown app: page %v (nil %v), total %d; want an empty slice and 0", page, page == nil, total)
			}
		}},
		{"ListFilters", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			a := newStatic("u1", "app1", at(1))
			a.Label = "room"
			b := newStatic("u2", "app1", at(2))
			b.Label, b.ExpiresAt = "room", at(10)
			c := newStatic("u3", "app1", at(3))
			c.Label, c.ExpiresAt = "Room", at(20)
			for _, sc := range []store.StaticCredential{a, b, c} {
				mustCreateStatic(t, s, sc)
			}
			for _, f := range []struct {
				name string
				q    store.StaticQuery
				want []store.StaticCredential
			}{
				{"label", store.StaticQuery{Label: "room"}, []store.StaticCredential{a, b}},
				{"label is case sensitive", store.StaticQuery{Label: "Room"}, []store.StaticCredential{c}},
				{"unknown label", store.StaticQuery{Label: "roo"}, nil},
				{"active before every expiry", store.StaticQuery{ActiveAt: at(9)}, []store.StaticCredential{a, b, c}},
				{"active at an expiry: expired", store.StaticQuery{ActiveAt: at(10)}, []store.StaticCredential{a, c}},
				{"active after both expiries", store.StaticQuery{ActiveAt: at(30)}, []store.StaticCredential{a}},
				{"label and active", store.StaticQuery{Label: "room", ActiveAt: at(15)}, []store.StaticCredential{a}},
			} {
				q := f.q
				q.AppID = "app1"
				page, total := mustListStatic(t, s, q)
				if total != len(f.want) {
					t.Errorf("%s: total = %d, want %d", f.name, total, len(f.want))
				}
				checkStatics(t, page, f.want)
			}
		}},
		{"DeleteByUsername", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			a, b := newStatic("u1", "app1", at(1)), newStatic("u2", "app1", at(2))
			mustCreateStatic(t, s, a)
			mustCreateStatic(t, s, b)
			got, err := s.DeleteStaticCredentials(ctx, "app2", store.StaticMatch{Username: "u1"})
			if err != nil || len(got) != 0 {
				t.Fatalf("delete another app's credential = %v, %v; want nothing deleted and no error", got, err)
			}
			got, err = s.DeleteStaticCredentials(ctx, "app1", store.StaticMatch{Username: "u1"})
			if err != nil || !slices.Equal(got, []string{"u1"}) {
				t.Fatalf("DeleteStaticCredentials(u1) = %v, %v; want [u1]", got, err)
			}
			_, err = s.StaticCredential(ctx, "u1")
			checkErr(t, "StaticCredential after delete", err, store.ErrNotFound)
			_, err = s.StaticCredentialByAPIKey(ctx, a.APIKeyHash)
			checkErr(t, "StaticCredentialByAPIKey after delete", err, store.ErrNotFound)
			page, _ := mustListStatic(t, s, store.StaticQuery{AppID: "app1"})
			checkStatics(t, page, []store.StaticCredential{b})
			got, err = s.DeleteStaticCredentials(ctx, "app1", store.StaticMatch{Username: "u1"})
			if err != nil || len(got) != 0 || got == nil {
				t.Fatalf("delete again = %v (nil %v), %v; want an empty slice and no error", got, got == nil, err)
			}
			// The username is free again, and so is the API key hash.
			mustCreateStatic(t, s, a)
		}},
		{"DeleteByLabel", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			var keep []store.StaticCredential
			for i, label := range []string{"room", "room", "other", "", "room "} {
				c := newStatic(fmt.Sprintf("u%d", i), "app1", at(i))
				c.Label = label
				mustCreateStatic(t, s, c)
				if label != "room" {
					keep = append(keep, c)
				}
			}
			foreign := newStatic("x", "app2", at(0))
			foreign.Label = "room"
			mustCreateStatic(t, s, foreign)
			got, err := s.DeleteStaticCredentials(ctx, "app1", store.StaticMatch{Label: "room"})
			slices.Sort(got)
			if err != nil || !slices.Equal(got, []string{"u0", "u1"}) {
				t.Fatalf("DeleteStaticCredentials(label room) = %v, %v; want [u0 u1]", got, err)
			}
			page, _ := mustListStatic(t, s, store.StaticQuery{AppID: "app1"})
			checkStatics(t, page, keep)
			page, _ = mustListStatic(t, s, store.StaticQuery{AppID: "app2"})
			checkStatics(t, page, []store.StaticCredential{foreign})
		}},
		{"DeleteNeedsOneMatch", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			mustCreateApp(t, s, newApp("app1"))
			c := newStatic("u1", "app1", at(1))
			mustCreateStatic(t, s, c) // unlabelled: an empty match must not take it
			for _, m := range []store.StaticMatch{{}, {Username: "u1", Label: "x"}} {
				if got, err := s.DeleteStaticCredentials(ctx, "app1", m); err == nil {
					t.Errorf("DeleteStaticCredentials(%+v) = %v, nil; want an error", m, got)
				}
			}
			page, _ := mustListStatic(t, s, store.StaticQuery{AppID: "app1"})
			checkStatics(t, page, []store.StaticCredential{c})
		}},
	})
}

func newStatic(username, appID string, created time.Time) store.StaticCredential {
	return store.StaticCredential{
		Username: username, Password: "password of " + username, AppID: appID,
		APIKeyHash: hashOf("api key of " + username), CreatedAt: created,
	}
}

func mustCreateStatic(t *testing.T, s store.Store, c store.StaticCredential) {
	t.Helper()
	if err := s.CreateStaticCredential(t.Context(), c); err != nil {
		t.Fatalf("CreateStaticCredential(%q): %v", c.Username, err)
	}
}

func mustListStatic(t *testing.T, s store.Store, q store.StaticQuery) ([]store.StaticCredential, int) {
	t.Helper()
	page, total, err := s.ListStaticCredentials(t.Context(), q)
	if err != nil {
		t.Fatalf("ListStaticCredentials(%+v): %v", q, err)
	}
	return page, total
}

func checkStatic(t *testing.T, got, want store.StaticCredential) {
	t.Helper()
	if got.Username != want.Username || got.Password != want.Password || got.Label != want.Label || got.AppID != want.AppID {
		t.Errorf("static credential = {Username:%q Password:%q Label:%q AppID:%q}, want {Username:%q Password:%q Label:%q AppID:%q}",
			got.Username, got.Password, got.Label, got.AppID, want.Username, want.Password, want.Label, want.AppID)
	}
	if got.APIKeyHash != want.APIKeyHash {
		t.Errorf("static credential %q APIKeyHash = %x, want %x", want.Username, got.APIKeyHash, want.APIKeyHash)
	}
	checkTime(t, "static credential "+want.Username+" CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "static credential "+want.Username+" ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func checkStatics(t *testing.T, got, want []store.StaticCredential) {
	t.Helper()
	names := func(list []store.StaticCredential) []string {
		out := make([]string, len(list))
		for i, c := range list {
			out[i] = c.Username
		}
		return out
	}
	if len(got) != len(want) {
		t.Fatalf("got %d static credentials %v, want %d %v", len(got), names(got), len(want), names(want))
	}
	for i := range want {
		checkStatic(t, got[i], want[i])
	}
}
