package storetest

import (
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// testTimes checks that every time field of every record comes back to the
// millisecond and in UTC, whatever zone and precision it went in with, and
// that the optional ones stay zero when they were zero.
func testTimes(t *testing.T, open opener) {
	samples := []struct {
		name string
		t    time.Time
	}{
		{"NanosecondsInZone", at(0)},
		{"UTC", time.Date(2031, time.December, 31, 23, 59, 59, 999_000_000, time.UTC)},
		{"WestOfUTC", time.Date(2025, time.January, 1, 0, 0, 0, 1_500_000, time.FixedZone("UTC-10", -10*3600))},
		{"Epoch", time.Unix(0, 0)},
		{"BeforeEpoch", time.Date(1969, time.July, 20, 20, 17, 40, 250_000_000, time.UTC)},
		{"WithMonotonicReading", time.Now()},
	}
	for _, f := range timeFields() {
		t.Run(f.name, func(t *testing.T) {
			for _, sm := range samples {
				t.Run(sm.name, func(t *testing.T) {
					checkTime(t, f.name, f.roundTrip(t, open(t), sm.t), sm.t)
				})
			}
			if f.optional {
				t.Run("ZeroStaysZero", func(t *testing.T) {
					checkTime(t, f.name, f.roundTrip(t, open(t), time.Time{}), time.Time{})
				})
			}
		})
	}
}

// timeField stores tm in one time field of a record and reads it back.
type timeField struct {
	name      string
	optional  bool // zero means "not set"
	roundTrip func(t *testing.T, s store.Store, tm time.Time) time.Time
}

func timeFields() []timeField {
	return []timeField{
		{"App.CreatedAt", false, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			app := newApp("app1")
			app.CreatedAt = tm
			mustCreateApp(t, s, app)
			return mustApp(t, s, "app1").CreatedAt
		}},
		{"APIKey.CreatedAt", false, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app1", tm)
			mustAddKey(t, s, k)
			return mustKeyByHash(t, s, k.Hash).CreatedAt
		}},
		{"APIKey.RevokedAt", true, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			mustCreateApp(t, s, newApp("app1"))
			k := newKey("key1", "app1", at(0))
			mustAddKey(t, s, k)
			if !tm.IsZero() {
				if err := s.RevokeKey(t.Context(), "key1", tm); err != nil {
					t.Fatalf("RevokeKey: %v", err)
				}
			}
			keys := mustAppKeys(t, s, "app1")
			if len(keys) != 1 {
				t.Fatalf("AppKeys returned %d keys, want 1", len(keys))
			}
			return keys[0].RevokedAt
		}},
		{"Secret.CreatedAt", false, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			mustAddSecret(t, s, newSecret("k1", tm))
			return onlySecret(t, s).CreatedAt
		}},
		{"Secret.NotAfter", true, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			sec := newSecret("k1", at(0))
			sec.NotAfter = tm
			mustAddSecret(t, s, sec)
			return onlySecret(t, s).NotAfter
		}},
		{"Secret.NotAfterRetired", true, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			mustAddSecret(t, s, newSecret("k1", at(0)))
			if err := s.RetireSecret(t.Context(), "k1", tm); err != nil {
				t.Fatalf("RetireSecret: %v", err)
			}
			return onlySecret(t, s).NotAfter
		}},
		{"Session.StartedAt", false, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			mustCreateApp(t, s, newApp("app1"))
			sess := newSession("sess1", "app1")
			sess.StartedAt = tm
			mustOpenSession(t, s, sess)
			return mustSession(t, s, "sess1").StartedAt
		}},
		{"Session.EndedAt", true, func(t *testing.T, s store.Store, tm time.Time) time.Time {
			mustCreateApp(t, s, newApp("app1"))
			mustOpenSession(t, s, newSession("sess1", "app1"))
			if !tm.IsZero() {
				if err := s.CloseSession(t.Context(), "sess1", tm); err != nil {
					t.Fatalf("CloseSession: %v", err)
				}
			}
			return mustSession(t, s, "sess1").EndedAt
		}},
	}
}

func onlySecret(t *testing.T, s store.Store) store.Secret {
	t.Helper()
	list := mustListSecrets(t, s)
	if len(list) != 1 {
		t.Fatalf("ListSecrets returned %d secrets, want 1", len(list))
	}
	return list[0]
}
