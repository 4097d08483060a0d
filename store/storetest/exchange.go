package storetest

import (
	"errors"
	"testing"

	"github.com/turnkit/turnkit/store"
)

func addrsOf(es []store.ExchangeEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Addr)
	}
	return out
}

func testExchange(t *testing.T, open opener) {
	pub := func(t *testing.T, s store.Store, app, ns, addr string, sec int) error {
		t.Helper()
		return s.PublishAddr(t.Context(), store.Publication{AppID: app, Namespace: ns, Addr: addr, At: at(sec), ExpiredBefore: at(sec - 600),
			MaxAddrs: 3, MaxNamespaces: 2})
	}
	runCases(t, open, []testCase{
		{"publish, refresh, order", func(t *testing.T, s store.Store) {
			for i, a := range []string{"1.1.1.1:1", "2.2.2.2:2", "1.1.1.1:1"} {
				if err := pub(t, s, "a", "room", a, i); err != nil {
					t.Fatal(err)
				}
			}
			es, err := s.NamespaceAddrs(t.Context(), "a", "room", at(-600))
			if err != nil || len(es) != 2 || es[0].Addr != "1.1.1.1:1" || es[1].Addr != "2.2.2.2:2" {
				t.Fatalf("NamespaceAddrs = %+v, %v", es, err)
			}
			checkTime(t, "First", es[0].First, at(0))
			checkTime(t, "Last", es[0].Last, at(2))
			if es, _ := s.NamespaceAddrs(t.Context(), "b", "room", at(-600)); len(es) != 0 {
				t.Fatalf("another app sees %v", addrsOf(es))
			}
		}},
		{"expiry by last publication", func(t *testing.T, s store.Store) {
			_ = pub(t, s, "a", "r", "1.1.1.1:1", 0)
			_ = pub(t, s, "a", "r", "2.2.2.2:2", 300)
			if es, _ := s.NamespaceAddrs(t.Context(), "a", "r", at(1)); len(es) != 1 || es[0].Addr != "2.2.2.2:2" {
				t.Fatalf("after the first expired: %v", addrsOf(es))
			}
			n, err := s.ExpireExchange(t.Context(), at(1))
			if err != nil || n != 1 {
				t.Fatalf("ExpireExchange = %d, %v; want 1", n, err)
			}
			if es, _ := s.NamespaceAddrs(t.Context(), "a", "r", at(-600)); len(es) != 1 {
				t.Fatalf("after ExpireExchange: %v", addrsOf(es))
			}
		}},
		{"limits", func(t *testing.T, s store.Store) {
			for i, a := range []string{"1.1.1.1:1", "1.1.1.2:1", "1.1.1.3:1"} {
				if err := pub(t, s, "a", "r", a, i); err != nil {
					t.Fatal(err)
				}
			}
			if err := pub(t, s, "a", "r", "1.1.1.4:1", 5); !errors.Is(err, store.ErrLimit) {
				t.Fatalf("fourth address: %v, want ErrLimit", err)
			}
			if err := pub(t, s, "a", "r", "1.1.1.1:1", 6); err != nil {
				t.Fatalf("refresh at the limit: %v", err)
			}
			if err := pub(t, s, "a", "r2", "1.1.1.1:1", 7); err != nil {
				t.Fatal(err)
			}
			if err := pub(t, s, "a", "r3", "1.1.1.1:1", 8); !errors.Is(err, store.ErrLimit) {
				t.Fatalf("third namespace: %v, want ErrLimit", err)
			}
			if err := pub(t, s, "b", "r3", "1.1.1.1:1", 8); err != nil {
				t.Fatalf("another app's namespace: %v", err)
			}
		}},
		{"per-key namespaces", func(t *testing.T, s store.Store) {
			pk := func(key, ns, addr string, sec int) error {
				return s.PublishAddr(t.Context(), store.Publication{AppID: "a", KeyID: key, Namespace: ns, Addr: addr,
					At: at(sec), ExpiredBefore: at(sec - 600), MaxAddrs: 10, MaxNamespaces: 10, MaxNamespacesPerKey: 2})
			}
			for i, ns := range []string{"n1", "n2"} {
				if err := pk("k1", ns, "1.1.1.1:1", i); err != nil {
					t.Fatal(err)
				}
			}
			if err := pk("k1", "n3", "1.1.1.1:1", 2); !errors.Is(err, store.ErrLimit) {
				t.Fatalf("third namespace of one key: %v, want ErrLimit", err)
			}
			if err := pk("k1", "n1", "2.2.2.2:2", 3); err != nil {
				t.Fatalf("another address in a namespace the key is in: %v", err)
			}
			if err := pk("k2", "n3", "1.1.1.1:1", 4); err != nil {
				t.Fatalf("another key's namespace: %v", err)
			}
			if err := pk("k2", "n1", "3.3.3.3:3", 5); err != nil {
				t.Fatalf("another key joining an existing namespace: %v", err)
			}
			if err := pk("k1", "n4", "1.1.1.1:1", 700); err != nil {
				t.Fatalf("after the key's namespaces expired: %v", err)
			}
		}},
	})
}
