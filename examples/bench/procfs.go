package main

// This file reads a process's resident memory and CPU time from /proc.

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat. Linux
// reports them in USER_HZ, which is 100 on every architecture it exposes
// to user space.
const clockTick = 10 * time.Millisecond

// readRSS returns the resident set size of process pid (VmRSS of
// /proc/PID/status), in bytes.
func readRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of process %d: %w", pid, err)
	}
	for line := range bytes.Lines(raw) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("read RSS of process %d: unexpected VmRSS line %q", pid, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read RSS of process %d: VmRSS %q: %w", pid, f[0], err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("read RSS of process %d: no VmRSS line in /proc/%d/status", pid, pid)
}

// readCPU returns the CPU time process pid has used so far, user and
// system, over all its threads (utime + stime of /proc/PID/stat).
func readCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return parseStatCPU(raw)
}

// parseStatCPU extracts utime + stime from the text of /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so fields are counted from the last ')'.
func parseStatCPU(raw []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse /proc stat %q: no command name", clipBytes(raw))
	}
	// After ")": field 3 (state) is rest[0]; utime and stime are fields 14
	// and 15, so rest[11] and rest[12].
	rest := strings.Fields(string(raw[end+1:]))
	if len(rest) < 13 {
		return 0, fmt.Errorf("parse /proc stat %q: %d fields after the command name, want at least 13", clipBytes(raw), len(rest))
	}
	var ticks int64
	for _, f := range rest[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse /proc stat: CPU field %q is not a tick count", f)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

func clipBytes(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
