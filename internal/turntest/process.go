package turntest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// requireAllEnv is the environment variable that turns a missing program
// from a skip into a failure when set to "1", as in CI.
const requireAllEnv = "TURNKIT_REQUIRE_ALL"

// CoturnTool returns the path of one of coturn's programs (turnserver,
// turnutils_uclient, turnutils_peer…). Without it the test is skipped, or
// fails when TURNKIT_REQUIRE_ALL=1.
func CoturnTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireAllEnv) == "1" {
			t.Fatalf("%s is not installed and %s=1 (apt-get install coturn)", name, requireAllEnv)
		}
		t.Skipf("%s is not installed (apt-get install coturn); skipping", name)
	}
	return path
}

// Process is a child program started by [StartProcess]. Its methods are
// safe for concurrent use.
type Process struct {
	out Buffer
}

// Write appends to the output, for the child's stdout and stderr.
func (p *Process) Write(b []byte) (int, error) { return p.out.Write(b) }

// Output returns what the program has printed so far, stdout and stderr
// interleaved, for failure messages.
func (p *Process) Output() string { return p.out.String() }

// StartProcess runs the program at path with args until the test ends,
// then kills it by its PID and waits for it.
func StartProcess(t testing.TB, path string, args ...string) *Process {
	t.Helper()
	p := &Process{}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(path), err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return p
}

// FreePort returns a port free on 127.0.0.1 for both UDP and TCP at the
// time of the call, for a child program to listen on.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}
