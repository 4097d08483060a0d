package pgtest

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// startServer starts a server of the test's own, or skips the test as
// Shared does.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(t.Context(), cfg)
	if errors.Is(err, ErrUnavailable) && os.Getenv("TURNKIT_REQUIRE_ALL") != "1" {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func show(t *testing.T, conn *pgx.Conn, setting string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(t.Context(), "SHOW "+setting).Scan(&v); err != nil {
		t.Fatalf("SHOW %s: %v", setting, err)
	}
	return v
}

// TestStartStop: a server listens on 127.0.0.1 only, with its socket in
// its directory, runs as an unprivileged user, and Stop ends its process
// and removes its directory.
func TestStartStop(t *testing.T) {
	s := startServer(t, Config{})
	defer s.Stop()
	ctx := t.Context()
	name, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.DSN(name))
	if err != nil {
		t.Fatal(err)
	}
	if got := show(t, conn, "listen_addresses"); got != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, want 127.0.0.1", got)
	}
	if got := show(t, conn, "unix_socket_directories"); got != s.Dir() {
		t.Errorf("unix_socket_directories = %q, want %q", got, s.Dir())
	}
	if got := show(t, conn, "fsync"); got != "off" {
		t.Errorf("fsync = %q on a test server, want off", got)
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != name {
		t.Errorf("current_database() = %q, %v; want %q", db, err, name)
	}
	conn.Close(ctx)

	pid := s.cmd.Process.Pid
	if os.Geteuid() == 0 {
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			t.Fatal(err)
		}
		u, err := user.Lookup(runAs)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(status), "\nUid:\t"+u.Uid+"\t") {
			t.Errorf("the server (pid %d) does not run as %s (uid %s):\n%s", pid, runAs, u.Uid, status)
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Error("Stop returned before the server process exited")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after Stop = %v, want ESRCH", pid, err)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the server's directory is still there after Stop: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if c, err := pgx.Connect(cctx, s.DSN("postgres")); err == nil {
		c.Close(ctx)
		t.Error("a connection to the stopped server succeeded")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestDSN: each DSN names a new, empty database of its own.
func TestDSN(t *testing.T) {
	a, b := DSN(t), DSN(t)
	if a == b {
		t.Fatalf("two calls gave the same DSN %q", a)
	}
	ca, err := pgx.Connect(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(t.Context())
	cb, err := pgx.Connect(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(t.Context())
	if _, err := ca.Exec(t.Context(), "CREATE TABLE mine (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := cb.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the second database has %d tables (%v), want none", n, err)
	}
}

// TestDurableDSN: the server for benchmarks keeps PostgreSQL's crash
// safety.
func TestDurableDSN(t *testing.T) {
	conn, err := pgx.Connect(t.Context(), DurableDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		if got := show(t, conn, setting); got != "on" {
			t.Errorf("%s = %q, want on", setting, got)
		}
	}
}

// TestFindBinaries: the binaries are found on PATH first, then in the
// newest versioned directory; without either, the error says the server is
// unavailable, which skips the tests that need one.
func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, names ...string) string {
		t.Helper()
		dir = filepath.Join(root, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	onPath := mk("path/bin", "initdb", "postgres")
	half := mk("half/bin", "initdb") // no postgres
	mk("lib/9.6/bin", "initdb", "postgres")
	v15 := mk("lib/15/bin", "initdb", "postgres")
	mk("lib/16/bin", "postgres") // incomplete: skipped
	if err := os.WriteFile(filepath.Join(half, "postgres"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	pattern := filepath.Join(root, "lib", "*", "bin")
	cases := []struct {
		name, path, pattern, want string
	}{
		{"PathFirst", half + string(os.PathListSeparator) + onPath, pattern, onPath},
		{"NewestVersion", half, pattern, v15},
		{"EmptyPath", "", pattern, v15},
		{"None", half, filepath.Join(root, "nowhere", "*", "bin"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := findBinaries(c.path, c.pattern)
			if c.want == "" {
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("findBinaries = %q, %v; want an error wrapping ErrUnavailable", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("findBinaries = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestVersionOrder: the newest major version's binaries come first.
func TestVersionOrder(t *testing.T) {
	for _, c := range []struct {
		a, b string
	}{{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/9.6/bin"}, {"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"}} {
		if versionOf(c.a) <= versionOf(c.b) {
			t.Errorf("versionOf(%s) = %d, not above versionOf(%s) = %d", c.a, versionOf(c.a), c.b, versionOf(c.b))
		}
	}
}

// TestTail: a failure message quotes the last 20 lines of a program's
// output, without the blank ones around them.
func TestTail(t *testing.T) {
	var lines []string
	for i := 1; i <= 25; i++ {
		lines = append(lines, "line "+strconv.Itoa(i))
	}
	got := tail([]byte("\n" + strings.Join(lines, "\n") + "\n\n"))
	if want := strings.Join(lines[5:], "\n"); got != want {
		t.Errorf("tail of 25 lines = %q, want the last 20: %q", got, want)
	}
	if got := tail([]byte("only line\n")); got != "only line" {
		t.Errorf("tail of one line = %q", got)
	}
	s := &Server{dir: t.TempDir()}
	if got := s.logTail(); !strings.Contains(got, "server.log") {
		t.Errorf("logTail without a log = %q, want the error naming the file", got)
	}
}
