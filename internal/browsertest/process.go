package browsertest

// This file checks that a stopped browser left no process and no profile
// behind. It reads /proc, so the checks run on Linux only; elsewhere they
// find nothing.

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// userDataDirOf returns the --user-data-dir switch of process pid.
func userDataDirOf(pid int) string {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	const prefix = "--user-data-dir="
	for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
		if v, ok := bytes.CutPrefix(arg, []byte(prefix)); ok {
			return string(v)
		}
	}
	return ""
}

// processesUsing returns the PIDs of the processes whose command line holds
// --user-data-dir=dir: the browser and every child it started.
func processesUsing(dir string) []int {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if userDataDirOf(pid) == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// checkGone reports an error if the browser pid or a process using its
// profile dir still runs (and kills those by PID), or if dir still exists.
// The browser, while it runs, is one of the processes using dir.
func checkGone(pid int, dir string) error {
	if left := processesUsing(dir); len(left) > 0 {
		for _, p := range left {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		return fmt.Errorf("browsertest: chromium (pid %d) left processes %v running after it was stopped; killed them", pid, left)
	}
	if dir != "" {
		if _, err := os.Stat(dir); err == nil {
			_ = os.RemoveAll(dir)
			return fmt.Errorf("browsertest: chromium's profile %s was not removed when it stopped; removed it", dir)
		}
	}
	return nil
}
