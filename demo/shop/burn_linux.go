package shop

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUClock returns a clock of the calling thread's CPU time.
func threadCPUClock() func() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return wallClock()
	}
	return func() time.Duration {
		if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
			return 1 << 62 // the clock broke: stop burning
		}
		return time.Duration(ts.Nano())
	}
}
