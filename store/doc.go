// Package store declares the storage contract of turnkit: one small interface
// per concern (apps, API keys, relay secrets, sessions), the records they
// exchange and the sentinel errors they return.
//
// The package is a leaf: it imports only the standard library, so storage
// backends (store/sqlite, and later store/postgres) import it and nothing
// else from turnkit. Every backend runs the shared conformance suite in
// store/storetest from its own tests.
//
// Client IP addresses never appear in any record of this package: they are
// used for routing at request time and then dropped.
package store
