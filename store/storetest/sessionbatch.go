package storetest

import (
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// testSessionBatch checks the SessionBatcher capability, for a store that
// has it.
func testSessionBatch(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"OpenAndClose", func(t *testing.T, s store.Store) {
			b := capability[store.SessionBatcher](t, s)
			mustCreateApp(t, s, newApp("app1"))
			first := newSession("s1", "app1")
			first.KeyID, first.Gateway = "key1", "0123456789abcdef0123"
			first.Metadata = store.Metadata{Room: "r", Initiator: "a", Receiver: "b"}
			second := newSession("s2", "app1")
			second.RelayID = "relay2"
			if err := b.OpenSessions(t.Context(), []store.Session{first, second}); err != nil {
				t.Fatalf("OpenSessions: %v", err)
			}
			checkSession(t, mustSession(t, s, "s1"), first)
			checkSession(t, mustSession(t, s, "s2"), second)
			if n := mustCount(t, s, "app1"); n != 2 {
				t.Fatalf("CountActiveSessions = %d after opening two, want 2", n)
			}
			// Opened again (a redelivery) and a new one: the stored one stays.
			changed := first
			changed.RelayID = "elsewhere"
			third := newSession("s3", "app1")
			if err := b.OpenSessions(t.Context(), []store.Session{changed, third}); err != nil {
				t.Fatalf("OpenSessions with a stored ID: %v", err)
			}
			checkSession(t, mustSession(t, s, "s1"), first)
			checkSession(t, mustSession(t, s, "s3"), third)
			// Close: an unknown ID is skipped, an ID given twice ends at its
			// first time, a closed one keeps its end.
			if err := s.CloseSession(t.Context(), "s3", at(10)); err != nil {
				t.Fatal(err)
			}
			err := b.CloseSessions(t.Context(), []store.SessionEnd{{ID: "s1", At: at(20)}, {ID: "nobody", At: at(20)},
				{ID: "s2", At: at(30)}, {ID: "s1", At: at(40)}, {ID: "s3", At: at(50)}})
			if err != nil {
				t.Fatalf("CloseSessions: %v", err)
			}
			first.EndedAt, second.EndedAt, third.EndedAt = at(20), at(30), at(10)
			checkSession(t, mustSession(t, s, "s1"), first)
			checkSession(t, mustSession(t, s, "s2"), second)
			checkSession(t, mustSession(t, s, "s3"), third)
			if n := mustCount(t, s, "app1"); n != 0 {
				t.Fatalf("CountActiveSessions = %d after closing all, want 0", n)
			}
		}},
		{"ZeroEndClosesNothing", func(t *testing.T, s store.Store) {
			b := capability[store.SessionBatcher](t, s)
			mustCreateApp(t, s, newApp("app1"))
			if err := b.OpenSessions(t.Context(), []store.Session{newSession("s1", "app1"), newSession("s2", "app1")}); err != nil {
				t.Fatal(err)
			}
			if err := b.CloseSessions(t.Context(), []store.SessionEnd{{ID: "s1", At: at(5)}, {ID: "s2"}}); err == nil {
				t.Fatal("CloseSessions accepted an end at the zero time")
			}
			if n := mustCount(t, s, "app1"); n != 2 {
				t.Fatalf("CountActiveSessions = %d after a refused batch, want 2: nothing may close", n)
			}
		}},
		{"Large", func(t *testing.T, s store.Store) {
			b := capability[store.SessionBatcher](t, s)
			mustCreateApp(t, s, newApp("app1"))
			var ss []store.Session
			var ends []store.SessionEnd
			for i := range 1000 {
				id := "s" + time.Duration(i).String()
				ss = append(ss, newSession(id, "app1"))
				ends = append(ends, store.SessionEnd{ID: id, At: at(60)})
			}
			if err := b.OpenSessions(t.Context(), ss); err != nil {
				t.Fatal(err)
			}
			if n := mustCount(t, s, "app1"); n != 1000 {
				t.Fatalf("CountActiveSessions = %d, want 1000", n)
			}
			if err := b.CloseSessions(t.Context(), ends); err != nil {
				t.Fatal(err)
			}
			if n := mustCount(t, s, "app1"); n != 0 {
				t.Fatalf("CountActiveSessions = %d after closing, want 0", n)
			}
		}},
	})
}
