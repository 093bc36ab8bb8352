//go:build !linux

package multilang

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// waitExited cannot wait without reaping outside Linux.
func waitExited(int) bool { return false }
