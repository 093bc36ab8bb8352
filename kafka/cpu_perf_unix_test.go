//go:build unix

package kafka_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process used so
// far, for the benchmarks' cpu-ns/record; ok is false when it is unknown.
func processCPU() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
