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
// The optional capabilities are checked for a store that has them (by type
// assertion; the cases are skipped, saying so, for one that has not):
// store.UsageBatcher in the group UsageBatch (each delta once, within a
// batch, across batches and across ApplyUsage; the same result as one at a
// time; nothing applied on error), store.Notifier in the group Notify, on
// one handle, and store.AppLister, store.ActiveSessionLister and
// store.HourlyUsageLister in the group List (byte order across pages,
// filters, limits, and hourly sums equal to the journal's, at the hour
// boundaries). A Notify case closes the store itself, so Close called a
// second time must return nil.
//
// A store that many nodes share runs RunShared too. It needs several
// handles on one database, which newShared describes in a [Shared]: Open
// opens another handle, and Interrupt breaks the connections the handles'
// subscriptions listen on (for PostgreSQL, pg_terminate_backend of the
// listening backends):
//
//	func TestShared(t *testing.T) {
//		storetest.RunShared(t, func(t *testing.T) storetest.Shared {
//			dsn := newDatabase(t)
//			return storetest.Shared{
//				Open:      func(t *testing.T) store.Store { return open(t, dsn) },
//				Interrupt: func(t *testing.T) { terminateListeners(t, dsn) },
//			}
//		})
//	}
//
// It checks that changes published on one handle reach the subscribers of
// another, in order, also after an interruption (which first yields a
// ChangeAll), and that four handles charging one app at once, each every
// delta, apply each exactly once, and a replay of all of them nothing.
//
// The package imports only the standard library and package store, so that
// any backend can use it without linking another.
package storetest
