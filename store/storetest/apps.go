package storetest

import (
	"errors"
	"testing"

	"github.com/turnkit/turnkit/store"
)

// testApps checks the Apps contract.
func testApps(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"CreateThenGet", func(t *testing.T, s store.Store) {
			want := store.App{ID: "app1", Name: "First app", Status: store.AppActive, CreatedAt: at(0)}
			mustCreateApp(t, s, want)
			checkApp(t, mustApp(t, s, "app1"), want)
		}},
		{"CreateEachStatus", func(t *testing.T, s store.Store) {
			for _, st := range []store.AppStatus{store.AppActive, store.AppPaused, store.AppDeleting} {
				want := store.App{ID: "app" + string(st), Name: string(st), Status: st, CreatedAt: at(1)}
				mustCreateApp(t, s, want)
				checkApp(t, mustApp(t, s, want.ID), want)
			}
		}},
		{"EmptyName", func(t *testing.T, s store.Store) {
			want := store.App{ID: "app1", Status: store.AppActive, CreatedAt: at(0)}
			mustCreateApp(t, s, want)
			checkApp(t, mustApp(t, s, "app1"), want)
		}},
		{"DistinctApps", func(t *testing.T, s store.Store) {
			a := store.App{ID: "app1", Name: "one", Status: store.AppActive, CreatedAt: at(1)}
			b := store.App{ID: "app2", Name: "two", Status: store.AppPaused, CreatedAt: at(2)}
			mustCreateApp(t, s, a)
			mustCreateApp(t, s, b)
			checkApp(t, mustApp(t, s, "app1"), a)
			checkApp(t, mustApp(t, s, "app2"), b)
		}},
		{"GetUnknown", func(t *testing.T, s store.Store) {
			_, err := s.App(t.Context(), "app1")
			checkErr(t, "App on an empty store", err, store.ErrNotFound)
			mustCreateApp(t, s, newApp("app1"))
			_, err = s.App(t.Context(), "app2")
			checkErr(t, "App(unknown)", err, store.ErrNotFound)
		}},
		{"CreateDuplicateID", func(t *testing.T, s store.Store) {
			first := store.App{ID: "app1", Name: "first", Status: store.AppActive, CreatedAt: at(1)}
			mustCreateApp(t, s, first)
			err := s.CreateApp(t.Context(), store.App{ID: "app1", Name: "second", Status: store.AppPaused, CreatedAt: at(2)})
			checkErr(t, "CreateApp(duplicate ID)", err, store.ErrExists)
			checkApp(t, mustApp(t, s, "app1"), first)
		}},
		{"SetStatus", func(t *testing.T, s store.Store) {
			want := store.App{ID: "app1", Name: "one", Status: store.AppActive, CreatedAt: at(1)}
			other := newApp("app2")
			mustCreateApp(t, s, want)
			mustCreateApp(t, s, other)
			for _, st := range []store.AppStatus{store.AppPaused, store.AppDeleting, store.AppActive, store.AppDeleting} {
				if err := s.SetAppStatus(t.Context(), "app1", st); err != nil {
					t.Fatalf("SetAppStatus(app1, %q): %v", st, err)
				}
				want.Status = st
				checkApp(t, mustApp(t, s, "app1"), want)
				checkApp(t, mustApp(t, s, "app2"), other)
			}
		}},
		{"SetSameStatus", func(t *testing.T, s store.Store) {
			want := newApp("app1")
			mustCreateApp(t, s, want)
			if err := s.SetAppStatus(t.Context(), "app1", want.Status); err != nil {
				t.Fatalf("SetAppStatus to the current status: %v", err)
			}
			checkApp(t, mustApp(t, s, "app1"), want)
		}},
		{"SetStatusUnknown", func(t *testing.T, s store.Store) {
			mustCreateApp(t, s, newApp("app1"))
			err := s.SetAppStatus(t.Context(), "app2", store.AppPaused)
			checkErr(t, "SetAppStatus(unknown)", err, store.ErrNotFound)
			_, err = s.App(t.Context(), "app2")
			checkErr(t, "App after SetAppStatus(unknown)", err, store.ErrNotFound)
		}},
		{"SetStatusInvalid", func(t *testing.T, s store.Store) {
			want := newApp("app1")
			mustCreateApp(t, s, want)
			for _, st := range []store.AppStatus{"", "ACTIVE", "deleted", "active ", "paused\x00"} {
				err := s.SetAppStatus(t.Context(), "app1", st)
				if err == nil {
					t.Errorf("SetAppStatus(app1, %q) = nil, want an error", st)
				} else if errors.Is(err, store.ErrNotFound) {
					t.Errorf("SetAppStatus(app1, %q) = %v, want an error other than not-found: the app exists", st, err)
				}
				checkApp(t, mustApp(t, s, "app1"), want)
			}
		}},
	})
}
