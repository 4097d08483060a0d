// Package sqlite is turnkit's default storage backend: a [store.Store] kept
// in one SQLite file, through the pure-Go driver modernc.org/sqlite (no cgo).
//
// [Open] opens or creates the file with the journal in WAL mode, a busy
// timeout of five seconds and foreign keys enforced. Writes go through one
// connection, one statement at a time; reads go through a separate pool of
// read-only connections, so they never wait for a write. [New] uses a
// database handle that the caller opened instead.
//
// The schema is created and upgraded by migrations embedded in the binary
// (migrations/NNNN_name.sql). The database's PRAGMA user_version records the
// last migration applied; Open and New apply the later ones in order, each in
// its own transaction, exactly once, and refuse a database whose version is
// newer than the binary knows.
//
// Times are stored as INTEGER Unix nanoseconds in UTC, which covers the years
// 1678 to 2262; the zero time is stored as NULL and read back as the zero
// time. Times are returned in UTC. Key hashes and secret values are stored as
// BLOBs and come back byte for byte. No IP address is ever stored.
//
// Errors wrap [store.ErrNotFound] and [store.ErrExists] where the contract
// says so, together with the driver's error when there is one, and name the
// record that failed.
package sqlite
