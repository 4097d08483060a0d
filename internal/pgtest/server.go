package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrUnavailable is returned, wrapped, when this machine lacks what a
// server needs: the PostgreSQL server binaries, or, for a process running
// as root, the unprivileged "postgres" user to run them as.
var ErrUnavailable = errors.New("pgtest: PostgreSQL server unavailable")

// Bounds on starting and stopping a server.
const (
	// startTimeout bounds initdb plus the wait for the first connection.
	startTimeout = 60 * time.Second
	// stopTimeout is how long a fast shutdown (SIGINT) may take before the
	// server is told to quit at once (SIGQUIT), and then killed.
	stopTimeout = 30 * time.Second
	// superuser is the role initdb creates; connections over loopback
	// and the socket are trusted, which is safe for a server that only
	// listens on 127.0.0.1 and lives in a private directory.
	superuser = "turnkit"
	// runAs is the user the server runs as when this process is root.
	runAs = "postgres"
)

// Config says how to run a server. The zero value is a reasonable default
// for tests.
type Config struct {
	// Durable keeps PostgreSQL's crash safety: fsync, synchronous_commit
	// and full_page_writes on, as a deployment has them, for benchmarks
	// whose figures must be what a deployment gets. By default they are
	// off: a throwaway cluster has nothing to keep after a crash, and tests
	// run several times faster.
	Durable bool
}

// Server is a PostgreSQL cluster that this process created in a temporary
// directory and runs on a loopback port. Start one with [Start]; most tests
// use the shared one through [DSN] instead.
//
// A Server is safe for concurrent use.
type Server struct {
	dir     string // temporary directory: data/, the socket and server.log
	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd has been waited for
	waitErr error         // cmd.Wait's result, set before exited closes

	stop    sync.Once
	stopErr error

	dbs databases // the databases made on the server
}

// Start creates a cluster with initdb in a new temporary directory and
// starts postgres on a free port of 127.0.0.1, its unix socket in the same
// directory. It returns once the server accepts connections, or fails
// within a minute. When this process runs as root, the directory is given
// to the user "postgres" and both programs run as that user, since the
// server refuses to run as root.
//
// Call Stop when done: it stops the server and removes the directory.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "turnkit-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, errors.Join(fmt.Errorf("pgtest: chown %s: %w", dir, err), os.RemoveAll(dir))
		}
	}
	s, err := start(ctx, cfg, bin, dir, cred)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return s, nil
}

func start(ctx context.Context, cfg Config, bin, dir string, cred *syscall.Credential) (*Server, error) {
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", superuser,
		"-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir, initdb.Env = dir, serverEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb -D %s: %w\n%s", data, err, tail(out))
	}
	var lastErr error
	for range 3 { // a port found free may be taken before postgres binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := run(ctx, cfg, bin, dir, port, cred)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// run starts postgres on port and waits until it accepts a connection.
func run(ctx context.Context, cfg Config, bin, dir string, port int, cred *syscall.Credential) (*Server, error) {
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	args := []string{"-D", filepath.Join(dir, "data"), "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "max_connections=200", "-c", "shared_buffers=32MB"}
	if !cfg.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, serverEnv(), logf, logf
	// The server is this process's own child, so it is stopped by its PID;
	// if this process dies without stopping it, the kernel tells it to
	// quit (SIGQUIT: immediate shutdown).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s := &Server{dir: dir, port: port, cmd: cmd, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.halt())
	}
	return s, nil
}

// waitReady polls a connection to the server until one succeeds, the
// server exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("pgtest: postgres exited while starting (%v):\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres not ready: %w (last error: %v)\n%s", ctx.Err(), err, s.logTail())
		case <-tick.C:
		}
	}
}

// DSN returns the connection string of the named database on the server,
// over TCP to 127.0.0.1.
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, database)
}

// Dir returns the server's temporary directory, which holds the cluster
// (data/), the unix socket and the server's log (server.log).
func (s *Server) Dir() string { return s.dir }

// Stop shuts the server down and removes its directory, after the
// databases being created or dropped in the background. It sends the
// server process SIGINT (a fast shutdown, as `pg_ctl stop -m fast` does),
// waits for it to exit, and escalates to SIGQUIT and then SIGKILL if it
// does not within 30 seconds. Calling Stop again returns the first call's
// result.
func (s *Server) Stop() error {
	s.stop.Do(func() {
		s.stopErr = errors.Join(s.dbs.close(), s.halt(), os.RemoveAll(s.dir))
	})
	return s.stopErr
}

// halt stops the server process by its PID and waits for it.
func (s *Server) halt() error {
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, stopTimeout}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		select {
		case <-s.exited:
			return nil
		default:
		}
		if err := s.cmd.Process.Signal(step.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("pgtest: signal postgres (pid %d): %w", s.cmd.Process.Pid, err)
		}
		timer := time.NewTimer(step.wait)
		select {
		case <-s.exited:
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
	return fmt.Errorf("pgtest: postgres (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err.Error()
	}
	return tail(b)
}

// tail returns the last lines of a program's output.
func tail(b []byte) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// FindBinaries returns the directory that holds initdb and postgres: the
// first on PATH that holds both, or else the newest /usr/lib/postgresql/N/bin
// (where Debian's postgresql packages put them). It returns an error
// wrapping ErrUnavailable if there is neither.
func FindBinaries() (string, error) {
	return findBinaries(os.Getenv("PATH"), debianBinaries)
}

// debianBinaries is where Debian's postgresql packages put the server
// binaries, one directory per major version.
const debianBinaries = "/usr/lib/postgresql/*/bin"

func findBinaries(path, pattern string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir != "" && hasServer(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(pattern)
	// Newest major version first: 15 before 9.6, by number.
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range dirs {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: initdb and postgres are neither on PATH nor in %s (install the postgresql package)", ErrUnavailable, pattern)
}

// hasServer reports whether dir holds the programs a server needs.
func hasServer(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
}

// versionOf returns the major version in /usr/lib/postgresql/N/bin, times
// 100 so that 9.6 sorts below 10.
func versionOf(dir string) int {
	v := filepath.Base(filepath.Dir(dir))
	major, minor, _ := strings.Cut(v, ".")
	m, _ := strconv.Atoi(major)
	n, _ := strconv.Atoi(minor)
	return m*100 + n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// credential returns the user to run the server as: nil (this process's
// own) unless this process is root, then the "postgres" user.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(runAs)
	if err != nil {
		return nil, fmt.Errorf("%w: running as root, and the server refuses to: no user %q to run it as: %v", ErrUnavailable, runAs, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: user %q: %w", runAs, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// serverEnv is this process's environment without the PG* variables that
// would point the server's programs elsewhere.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// freePort returns a TCP port of 127.0.0.1 that is free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
