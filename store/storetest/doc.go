// Package storetest is the conformance suite of the storage contract in
// package store. Every backend runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := mybackend.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite checks each sentence of the interface doc comments in package
// store: not-found and already-exists errors, idempotent revocation and
// closing, ordering, status changes, empty results, counts, the round trip of
// times (to the millisecond, returned in UTC) and bytes (exactly), context
// cancellation and concurrent use. Run it with -race.
//
// The package imports only the standard library and package store, so that
// any backend can use it without linking another.
package storetest
