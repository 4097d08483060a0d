package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared holds the servers of a test binary, one per Config: each started
// by the first test that asks for it, all stopped by Run when the tests
// end. It is the package's only state, and lives no longer than the test
// binary.
var shared struct {
	mu      sync.Mutex // guards the following fields
	inMain  bool       // Run is running the tests
	servers map[Config]*started
}

// started is the outcome of starting a shared server.
type started struct {
	srv *Server
	err error
}

// Main runs the tests of m, then stops the shared servers that tests
// started, and exits. Use it as the body of TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit: it runs the tests, stops the shared
// servers, and returns the exit code, for a TestMain that has more to do
// (a goroutine-leak check, say). A failure to stop a server turns a
// passing run into a failing one.
func Run(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.inMain = false
	for cfg, st := range shared.servers {
		if st.srv != nil {
			if err := st.srv.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = max(code, 1)
			}
		}
		delete(shared.servers, cfg)
	}
	return code
}

// Shared returns the server of this test binary that runs with cfg,
// starting it the first time. The test is skipped if this machine has no
// PostgreSQL server binaries (or, as root, no "postgres" user to run them
// as), unless the environment sets TURNKIT_REQUIRE_ALL=1: then it fails.
// Any other failure to start fails the test. The binary's TestMain must
// call [Main] or [Run], which stop the servers when the tests end.
func Shared(t testing.TB, cfg Config) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		t.Fatal("pgtest: the test binary's TestMain must call pgtest.Main or pgtest.Run")
	}
	st := shared.servers[cfg]
	if st == nil {
		st = &started{}
		st.srv, st.err = Start(context.Background(), cfg)
		if shared.servers == nil {
			shared.servers = map[Config]*started{}
		}
		shared.servers[cfg] = st
	}
	switch {
	case errors.Is(st.err, ErrUnavailable) && os.Getenv("TURNKIT_REQUIRE_ALL") != "1":
		t.Skipf("skipping: %v (TURNKIT_REQUIRE_ALL=1 makes this a failure)", st.err)
	case st.err != nil:
		t.Fatal(st.err)
	}
	return st.srv
}

// DSN returns the connection string of a new, empty database on the shared
// server with the default Config (see [Shared] for when the test is skipped
// instead). The database is dropped, in the background, when the test
// ends, after the test's own cleanups: close what uses it in a cleanup or
// before the test returns.
func DSN(t testing.TB) string {
	t.Helper()
	return Shared(t, Config{}).NewDatabase(t)
}

// DurableDSN is DSN on the shared server that keeps PostgreSQL's crash
// safety (Config.Durable), for benchmarks.
func DurableDSN(t testing.TB) string {
	t.Helper()
	return Shared(t, Config{Durable: true}).NewDatabase(t)
}

// NewDatabase returns the connection string of a new, empty database on
// s, dropped in the background when t ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dbopTimeout)
	defer cancel()
	name, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DropDatabase(name) })
	return s.DSN(name)
}
