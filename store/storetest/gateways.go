package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/turnkit/turnkit/store"
)

func testGateways(t *testing.T, open opener) {
	runCases(t, open, []testCase{
		{"no active session", func(t *testing.T, s store.Store) {
			if _, err := s.GatewayRelay(t.Context(), "a", "g1"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("GatewayRelay: %v, want ErrNotFound", err)
			}
		}},
		{"latest active session of the app and gateway", func(t *testing.T, s store.Store) {
			for _, x := range []struct {
				id, app, gw, relay string
				start              int
			}{
				{"s1", "a", "g1", "r1", 0}, {"s2", "a", "g1", "r2", 5}, {"s3", "a", "g2", "r3", 9},
				{"s4", "b", "g1", "r4", 9}, {"s5", "a", "", "r5", 9},
			} {
				sess := newSession(x.id, x.app)
				sess.Gateway, sess.RelayID, sess.StartedAt = x.gw, x.relay, at(x.start)
				mustOpenSession(t, s, sess)
			}
			if r, err := s.GatewayRelay(t.Context(), "a", "g1"); err != nil || r != "r2" {
				t.Fatalf("GatewayRelay = %q, %v; want r2 (the latest)", r, err)
			}
			if err := s.CloseSession(t.Context(), "s2", at(10)); err != nil {
				t.Fatal(err)
			}
			if r, err := s.GatewayRelay(t.Context(), "a", "g1"); err != nil || r != "r1" {
				t.Fatalf("after closing s2: %q, %v; want r1", r, err)
			}
			if err := s.CloseSession(t.Context(), "s1", at(11)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GatewayRelay(t.Context(), "a", "g1"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("all closed: %v, want ErrNotFound", err)
			}
			if _, err := s.GatewayRelay(t.Context(), "a", ""); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("empty tag matched a regular session: %v", err)
			}
			got, _ := s.Session(t.Context(), "s3")
			if got.Gateway != "g2" {
				t.Fatalf("Gateway = %q, want g2", got.Gateway)
			}
		}},
		{"settings: first writer wins", func(t *testing.T, s store.Store) {
			if _, err := s.Setting(t.Context(), "k"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Setting: %v, want ErrNotFound", err)
			}
			v, err := s.InitSetting(t.Context(), "k", []byte("first"))
			if err != nil || !bytes.Equal(v, []byte("first")) {
				t.Fatalf("InitSetting = %q, %v", v, err)
			}
			v, err = s.InitSetting(t.Context(), "k", []byte("second"))
			if err != nil || !bytes.Equal(v, []byte("first")) {
				t.Fatalf("second InitSetting = %q, %v; want the first value", v, err)
			}
			if v, err := s.Setting(t.Context(), "k"); err != nil || !bytes.Equal(v, []byte("first")) {
				t.Fatalf("Setting = %q, %v", v, err)
			}
		}},
	})
}
