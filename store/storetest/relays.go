package storetest

import (
	"errors"
	"testing"

	"github.com/turnkit/turnkit/store"
)

func newRelayRecord(id string) store.RelayRecord {
	return store.RelayRecord{ID: id, Region: "eu-central", Lat: 50.11, Lon: 8.68, HasLocation: true,
		URLs: []string{"stun:" + id + ":3478", "turn:" + id + ":3478?transport=udp"}, Capacity: 100,
		Instance: "i1", Allocations: 3, Bitrate: 1000, ReportedAt: at(0)}
}

func testRelays(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"empty registry", func(t *testing.T, s store.Store) {
			rs, err := s.ListRelays(t.Context())
			if err != nil || rs == nil || len(rs) != 0 {
				t.Fatalf("ListRelays = %v, %v; want an empty slice", rs, err)
			}
		}},
		{"announce round-trips", func(t *testing.T, s store.Store) {
			want := newRelayRecord("r1")
			if err := s.AnnounceRelay(t.Context(), want); err != nil {
				t.Fatal(err)
			}
			rs, _ := s.ListRelays(t.Context())
			if len(rs) != 1 {
				t.Fatalf("ListRelays = %+v", rs)
			}
			got := rs[0]
			checkTime(t, "ReportedAt", got.ReportedAt, want.ReportedAt)
			got.ReportedAt = want.ReportedAt
			if got.ID != want.ID || got.Region != want.Region || got.Lat != want.Lat || got.Lon != want.Lon ||
				!got.HasLocation || len(got.URLs) != 2 || got.URLs[1] != want.URLs[1] || got.Capacity != 100 ||
				got.Instance != "i1" || got.Allocations != 3 || got.Bitrate != 1000 || got.Draining {
				t.Fatalf("relay = %+v, want %+v", got, want)
			}
		}},
		{"no location", func(t *testing.T, s store.Store) {
			r := newRelayRecord("r1")
			r.HasLocation, r.Lat, r.Lon = false, 0, 0
			if err := s.AnnounceRelay(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			if rs, _ := s.ListRelays(t.Context()); rs[0].HasLocation {
				t.Fatalf("HasLocation came back true: %+v", rs[0])
			}
		}},
		{"report, drain, re-announce", func(t *testing.T, s store.Store) {
			if err := s.AnnounceRelay(t.Context(), newRelayRecord("r1")); err != nil {
				t.Fatal(err)
			}
			if err := s.ReportRelayLoad(t.Context(), "r1", 42, 9000, at(5)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetRelayDraining(t.Context(), "r1", true); err != nil {
				t.Fatal(err)
			}
			again := newRelayRecord("r1")
			again.Instance, again.ReportedAt = "i2", at(9)
			if err := s.AnnounceRelay(t.Context(), again); err != nil {
				t.Fatal(err)
			}
			rs, _ := s.ListRelays(t.Context())
			if r := rs[0]; !r.Draining || r.Instance != "i2" || r.Allocations != 3 {
				t.Fatalf("after re-announce: %+v; want draining kept, instance and load replaced", r)
			}
			checkTime(t, "ReportedAt", rs[0].ReportedAt, at(9))
			if err := s.SetRelayDraining(t.Context(), "r1", false); err != nil {
				t.Fatal(err)
			}
			if rs, _ := s.ListRelays(t.Context()); rs[0].Draining {
				t.Fatal("draining not cleared")
			}
		}},
		{"unknown relay", func(t *testing.T, s store.Store) {
			if err := s.ReportRelayLoad(t.Context(), "nope", 1, 1, at(0)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ReportRelayLoad: %v, want ErrNotFound", err)
			}
			if err := s.SetRelayDraining(t.Context(), "nope", true); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("SetRelayDraining: %v, want ErrNotFound", err)
			}
		}},
		{"ordered by ID", func(t *testing.T, s store.Store) {
			for _, id := range []string{"r3", "r1", "r2"} {
				if err := s.AnnounceRelay(t.Context(), newRelayRecord(id)); err != nil {
					t.Fatal(err)
				}
			}
			rs, _ := s.ListRelays(t.Context())
			if len(rs) != 3 || rs[0].ID != "r1" || rs[2].ID != "r3" {
				t.Fatalf("order %v", rs)
			}
		}},
	})
}
