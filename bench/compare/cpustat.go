package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuSample is the busy and total jiffies of a set of CPUs at one moment,
// from /proc/stat.
type cpuSample struct {
	busy, total int64
}

// sampleCPUs reads /proc/stat for the CPUs in list ("" = all of them).
func sampleCPUs(list string) (cpuSample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	return parseProcStat(b, list)
}

// parseProcStat sums the busy and total jiffies of the CPUs in list ("" =
// the machine's aggregate "cpu" line). Busy is user, nice, system and
// steal: irq and softirq time is left out of busy (not of the total) as it
// is mostly our own loopback traffic, whichever process it interrupted.
func parseProcStat(b []byte, list string) (cpuSample, error) {
	want := map[string]bool{}
	if list == "" {
		want["cpu"] = true
	} else {
		cpus, err := parseCPUList(list)
		if err != nil {
			return cpuSample{}, err
		}
		for _, c := range cpus {
			want["cpu"+strconv.Itoa(c)] = true
		}
	}
	var s cpuSample
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || !want[f[0]] {
			continue
		}
		found++
		for i, v := range f[1:] {
			if i >= 8 { // guest and guest_nice are already in user and nice
				break
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return cpuSample{}, fmt.Errorf("/proc/stat %s: %w", f[0], err)
			}
			s.total += n
			switch i {
			case 0, 1, 2, 7: // user, nice, system, steal
				s.busy += n
			}
		}
	}
	if found != len(want) {
		return cpuSample{}, fmt.Errorf("/proc/stat: found %d of the %d CPUs in %q", found, len(want), list)
	}
	return s, nil
}

// othersShare is the fraction of the CPUs' time between a and b that went
// to processes other than ours, which used own jiffies of it.
func othersShare(a, b cpuSample, own int64) float64 {
	total := b.total - a.total
	if total <= 0 {
		return 0
	}
	return max(0, float64(b.busy-a.busy-own)/float64(total))
}

// parseCPUList reads a taskset CPU list such as "0", "0-1,3".
func parseCPUList(list string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number", list, lo)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, fmt.Errorf("CPU list %q: bad range %q", list, part)
			}
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}
