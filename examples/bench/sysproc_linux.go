package main

import "syscall"

// childSysProcAttr puts a child in its own process group (Ctrl-C in the
// terminal reaches the bench, which stops its children by PID) and has
// the kernel kill it if the bench dies without stopping it.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
