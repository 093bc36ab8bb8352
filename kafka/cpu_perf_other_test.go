//go:build !unix

package kafka_test

import "time"

// processCPU is unknown here: the benchmarks report no cpu-ns/record.
func processCPU() (time.Duration, bool) { return 0, false }
