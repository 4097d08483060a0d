// Package pgtest runs a throwaway PostgreSQL server for the tests of
// turnkit's packages: a real server, started from the PostgreSQL binaries
// of the machine, never a mock.
//
// One server serves a whole test binary. It starts the first time a test
// asks for it, in a temporary directory made for it (cluster, unix socket
// and log), listening on a free port of 127.0.0.1 only, and stops by its PID
// when the tests end; the directory is then removed. Each test gets a
// database of its own, created for it (CREATE DATABASE; a couple are made
// ahead in the background, and dropped in the background after the test):
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.DSN(t) // a new, empty database, dropped when t ends
//		…
//	}
//
// The binaries are looked up on PATH, then in /usr/lib/postgresql/*/bin
// (Debian's packages), newest first. The server refuses to run as root, so
// a test process running as root (as CI does) runs initdb and postgres as
// the user "postgres", its directory owned by that user. A machine without
// the binaries, or without that user when running as root, skips the tests
// that need a server, with a message saying why; with TURNKIT_REQUIRE_ALL=1
// in the environment they fail instead.
//
// The server for tests runs without crash safety (fsync,
// synchronous_commit and full_page_writes off), which makes a test suite
// several times faster and changes nothing a test can observe. Benchmarks
// use [DurableDSN], a second server with PostgreSQL's defaults, so that
// their figures are what a deployment gets. Both run with max_connections =
// 200 and shared_buffers = 32MB.
package pgtest
