package browsertest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/turntest"
)

// TestCheckGone: a process left running with the profile on its command
// line is reported and killed by its PID, a profile left on disk is
// reported and removed, and once both are gone the check passes.
func TestCheckGone(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("the check reads /proc; this is not Linux")
	}
	dir := t.TempDir()
	// sh waits in its read builtin on a pipe the test holds open: one
	// process, no child, with the switch on its command line.
	cmd := exec.Command("sh", "-c", "read line", "--user-data-dir="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	pid := cmd.Process.Pid
	// Until the child has exec'd sh, its command line is the test's.
	turntest.Eventually(t, "sh's command line to hold the profile", func() bool { return userDataDirOf(pid) == dir })

	err = checkGone(pid, dir)
	if err == nil || !strings.Contains(err.Error(), "left processes") {
		t.Fatalf("checkGone with the process running = %v, want it reported", err)
	}
	if err := <-exited; err == nil {
		t.Error("the process left running exited cleanly; want it killed")
	}
	exited <- nil // for the cleanup

	err = checkGone(pid, dir)
	if err == nil || !strings.Contains(err.Error(), "was not removed") {
		t.Fatalf("checkGone with the profile left = %v, want it reported", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the profile is still there: %v", err)
	}
	if err := checkGone(pid, dir); err != nil {
		t.Errorf("checkGone after both are gone = %v", err)
	}
	if err := checkGone(0, ""); err != nil {
		t.Errorf("checkGone of a browser without profile = %v", err)
	}
}
