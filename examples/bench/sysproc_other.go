//go:build !unix

package main

import "syscall"

// childSysProcAttr has nothing to add where there are no process groups.
// The bench measures through /proc, so it runs fully on Linux only.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
