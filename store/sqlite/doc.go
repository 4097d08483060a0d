// Package sqlite is turnkit's default store: one SQLite file through the
// pure-Go modernc.org/sqlite driver (no cgo).
//
// The file is opened in WAL mode with a busy timeout and foreign keys on.
// Writes go through one connection, so they are serialised in the process;
// reads use a separate pool and run beside them. The schema lives in
// embedded migrations that Open applies in order, each exactly once, in its
// own transaction; PRAGMA user_version records the last one applied.
//
// Times are stored as Unix nanoseconds in UTC; the zero time is stored as 0.
// No table has a column for IP addresses.
package sqlite
