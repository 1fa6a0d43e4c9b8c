package cpuquota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Stat is what the kernel counts for a cgroup under a CFS quota (cpu.stat).
type Stat struct {
	// Periods is how many enforcement periods have elapsed in which the
	// cgroup had runnable threads (nr_periods).
	Periods uint64
	// ThrottledPeriods is how many of them ran out of quota (nr_throttled).
	ThrottledPeriods uint64
	// Throttled is the total time its threads were held back
	// (v1 throttled_time in ns, v2 throttled_usec in µs).
	Throttled time.Duration
}

// ParseStat reads a cpu.stat file of cgroup version v. The three counters
// are required; other lines (burst counts, usage) are ignored.
func ParseStat(data []byte, v Version) (Stat, error) {
	throttledKey, unit := "throttled_time", time.Nanosecond
	if v == V2 {
		throttledKey, unit = "throttled_usec", time.Microsecond
	}
	var st Stat
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return Stat{}, fmt.Errorf("cpuquota: cpu.stat line %d: %q is not \"key value\"", i+1, line)
		}
		var dst *uint64
		var throttled uint64
		switch f[0] {
		case "nr_periods":
			dst = &st.Periods
		case "nr_throttled":
			dst = &st.ThrottledPeriods
		case throttledKey:
			dst = &throttled
		default:
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("cpuquota: cpu.stat line %d: %s: %q is not a count", i+1, f[0], f[1])
		}
		*dst = n
		if f[0] == throttledKey {
			if n > uint64(math.MaxInt64/unit) {
				return Stat{}, fmt.Errorf("cpuquota: cpu.stat line %d: %s: %d is beyond 292 years", i+1, f[0], n)
			}
			st.Throttled = time.Duration(throttled) * unit
		}
		seen[f[0]] = true
	}
	for _, key := range []string{"nr_periods", "nr_throttled", throttledKey} {
		if !seen[key] {
			return Stat{}, fmt.Errorf("cpuquota: cpu.stat (%s) has no %s", v, key)
		}
	}
	return st, nil
}
