//go:build !linux

package shop

import "time"

// threadCPUClock falls back to wall time where the thread clock is not wired.
func threadCPUClock() func() time.Duration { return wallClock() }
