package storetest

import (
	"reflect"
	"testing"

	"github.com/turnkit/turnkit/store"
)

// Run runs the conformance suite against the backend that newStore creates.
//
// The suite is a tree of subtests, one group per concern (Apps, Keys,
// Secrets, Sessions, Times, Context, Concurrency) with named cases inside.
// Each case calls newStore for a fresh, empty store and closes it when the
// case ends, failing the case if Close returns an error; newStore should
// register cleanups only for what it made besides the store, such as files.
// newStore may call t.Fatal if the store cannot be made.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		if s == nil {
			t.Fatal("newStore returned a nil store")
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	groups := []struct {
		name string
		run  func(*testing.T, opener)
	}{
		{"Apps", testApps},
		{"Keys", testKeys},
		{"Secrets", testSecrets},
		{"Sessions", testSessions},
		{"SessionStats", testSessionStats},
		{"Ledger", testLedger},
		{"Relays", testRelays},
		{"Gateways", testGateways},
		{"Regions", testRegions},
		{"Exchange", testExchange},
		{"Attribution", testAttribution},
		{"SessionBatch", testSessionBatch},
		{"Static", testStatic},
		{"Times", testTimes},
		{"Context", testContext},
		{"Concurrency", testConcurrency},
		{"UsageBatch", testBatch},
		{"Notify", testNotify},
		{"List", testList},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// opener returns a fresh store that is closed when t ends.
type opener func(t *testing.T) store.Store

// testCase is one named case of a group; it gets a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// runCases runs each case as a subtest with its own store.
func runCases(t *testing.T, open opener, cases []testCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

// capability returns s as the optional interface T of package store, or
// skips the test when s does not implement it.
func capability[T any](t *testing.T, s store.Store) T {
	t.Helper()
	c, ok := s.(T)
	if !ok {
		t.Skipf("%T does not implement %v", s, reflect.TypeFor[T]())
	}
	return c
}
