//go:build unix && !linux

package main

import "syscall"

// childSysProcAttr puts a child in its own process group, so Ctrl-C in the
// terminal reaches the bench, which stops its children by PID. The bench
// measures through /proc, so it runs fully on Linux only.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
