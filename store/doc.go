// Package store declares the storage contract of turnkit: one small
// interface per concern — apps (Apps), API keys (Keys), relay secrets
// (Secrets), sessions (Sessions, SessionStats), balances and their journal
// (Ledger), the relay registry (Relays), shared settings (Settings), the
// shared exchange (Exchanges) and the metadata of issued credentials
// (CredentialMetadata), static TURN credentials (StaticCredentials) — the
// records they exchange and the sentinel errors
// they return. Store embeds them all. Optional capabilities a backend may
// add are separate interfaces that callers check for with a type assertion:
// UsageBatcher (many usage deltas in few transactions), SessionBatcher
// (many session starts and ends in one transaction each), Notifier
// (changes carried to every node at once), and, for an admin interface,
// AppLister, ActiveSessionLister and HourlyUsageLister (pages of apps and
// of live sessions, usage summed by hour).
//
// Each interface's doc comment is its contract: not-found and
// already-exists behaviour, ordering, idempotence, concurrency and context
// cancellation. The conformance suite in store/storetest checks every
// sentence of it; every backend runs it from its own tests.
//
// The package is a leaf: it imports only the standard library, so storage
// backends (store/sqlite, store/postgres) import it and nothing else from
// turnkit.
//
// Client IP addresses never appear in any record of this package: they are
// used for routing at request time and then dropped.
package store
