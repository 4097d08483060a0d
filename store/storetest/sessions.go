package storetest

import (
	"testing"

	"github.com/turnkit/turnkit/store"
)

// testSessions checks the Sessions contract.
func testSessions(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"OpenThenGet", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			want := store.Session{ID: "sess1", AppID: "app1", Username: "1700000000:app1:k1", RelayID: "relay-eu-1", StartedAt: at(1)}
			mustOpenSession(t, s, want)
			got := mustSession(t, s, "sess1")
			checkSession(t, got, want)
			if !got.Active() {
				t.Errorf("new session is not Active, EndedAt = %v", got.EndedAt)
			}
		}},
		{"GetUnknown", func(t *testing.T, s store.Store) {
			_, err := s.Session(t.Context(), "sess1")
			checkErr(t, "Session on an empty store", err, store.ErrNotFound)
			mustCreateApp(t, s, newApp("app1"))
			mustOpenSession(t, s, newSession("sess1", "app1"))
			_, err = s.Session(t.Context(), "sess2")
			checkErr(t, "Session(unknown)", err, store.ErrNotFound)
		}},
		{"OpenDuplicateID", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			mustCreateApp(t, s, newApp("app2"))
			first := newSession("sess1", "app1")
			mustOpenSession(t, s, first)
			dup := store.Session{ID: "sess1", AppID: "app2", Username: "other", RelayID: "relay2", StartedAt: at(5)}
			checkErr(t, "OpenSession(duplicate ID)", s.OpenSession(t.Context(), dup), store.ErrExists)
			checkSession(t, mustSession(t, s, "sess1"), first)
			if n := mustCount(t, s, "app2"); n != 0 {
				t.Errorf("CountActiveSessions(app2) = %d after a refused open, want 0", n)
			}
		}},
		{"Close", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			sess, other := newSession("sess1", "app1"), newSession("sess2", "app1")
			mustOpenSession(t, s, sess)
			mustOpenSession(t, s, other)
			if err := s.CloseSession(t.Context(), "sess1", at(60)); err != nil {
				t.Fatalf("CloseSession: %v", err)
			}
			sess.EndedAt = at(60)
			got := mustSession(t, s, "sess1")
			checkSession(t, got, sess)
			if got.Active() {
				t.Errorf("closed session is Active")
			}
			checkSession(t, mustSession(t, s, "sess2"), other)
		}},
		{"CloseTwiceKeepsFirst", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			sess := newSession("sess1", "app1")
			mustOpenSession(t, s, sess)
			for _, n := range []int{60, 120, 30} { // later, then earlier, than the first
				if err := s.CloseSession(t.Context(), "sess1", at(n)); err != nil {
					t.Fatalf("CloseSession at +%ds: %v", n, err)
				}
			}
			sess.EndedAt = at(60)
			checkSession(t, mustSession(t, s, "sess1"), sess)
		}},
		{"CloseUnknown", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			sess := newSession("sess1", "app1")
			mustOpenSession(t, s, sess)
			checkErr(t, "CloseSession(unknown)", s.CloseSession(t.Context(), "sess2", at(60)), store.ErrNotFound)
			checkSession(t, mustSession(t, s, "sess1"), sess)
			if n := mustCount(t, s, "app1"); n != 1 {
				t.Errorf("CountActiveSessions = %d, want 1", n)
			}
		}},
		{"CountPerApp", func(t *testing.T, s store.Store) {
			for _, id := range []string{"app1", "app2", "app3"} {
				mustCreateApp(t, s, newApp(id))
			}
			open := map[string]string{"s1": "app1", "s2": "app1", "s3": "app1", "s4": "app2", "s5": "app2", "s6": "app3"}
			for id, app := range open {
				mustOpenSession(t, s, newSession(id, app))
			}
			for _, id := range []string{"s2", "s6"} {
				if err := s.CloseSession(t.Context(), id, at(60)); err != nil {
					t.Fatalf("CloseSession(%q): %v", id, err)
				}
			}
			for app, want := range map[string]int{"app1": 2, "app2": 2, "app3": 0, "app4": 0} {
				if n := mustCount(t, s, app); n != want {
					t.Errorf("CountActiveSessions(%q) = %d, want %d", app, n, want)
				}
			}
		}},
		{"CountFollowsOpenAndClose", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			if n := mustCount(t, s, "app1"); n != 0 {
				t.Fatalf("CountActiveSessions with no sessions = %d, want 0", n)
			}
			steps := []struct {
				name  string
				do    func() error
				count int
			}{
				{"open s1", func() error { return s.OpenSession(t.Context(), newSession("s1", "app1")) }, 1},
				{"open s2", func() error { return s.OpenSession(t.Context(), newSession("s2", "app1")) }, 2},
				{"close s1", func() error { return s.CloseSession(t.Context(), "s1", at(10)) }, 1},
				{"close s1 again", func() error { return s.CloseSession(t.Context(), "s1", at(20)) }, 1},
				{"open s3", func() error { return s.OpenSession(t.Context(), newSession("s3", "app1")) }, 2},
				{"close s2", func() error { return s.CloseSession(t.Context(), "s2", at(30)) }, 1},
				{"close s3", func() error { return s.CloseSession(t.Context(), "s3", at(40)) }, 0},
			}
			for _, st := range steps {
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if n := mustCount(t, s, "app1"); n != st.count {
					t.Errorf("after %s: CountActiveSessions = %d, want %d", st.name, n, st.count)
				}
			}
		}},
	})
}
