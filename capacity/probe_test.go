package capacity

import (
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
)

// sec is a generator window of one second at offset i of a run.
func sec(start time.Time, i int, requests int64, busy, inFlight float64) generator.Second {
	return generator.Second{
		Start: start.Add(time.Duration(i) * time.Second), Duration: time.Second,
		Offered: 100, Iterations: requests, Total: generator.Window{Requests: requests},
		Busy: busy, InFlight: inFlight,
	}
}

// Rule 10: a run stopped before its warm-up ended is summarised over its
// warm-up, the seconds that stopped it included; it never "measures
// nothing".
func TestAccumulatorKeepsTheWarmupOfARunStoppedWithinIt(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	a := newAccumulator(6*time.Second, 30*time.Second)
	a.add(sec(start, 0, 100, 40, 4))
	a.add(sec(start, 1, 60, 80, 8))
	a.stopped = true
	s := a.summary()
	if !s.WarmupOnly || s.Seconds != 2 || s.Requests != 160 || s.Throughput != 80 || s.Busy != 60 || s.InFlight != 6 {
		t.Fatalf("summary %+v; want the warm-up's 2 s: 160 requests, 80/s, 60 busy, 6 in flight", s)
	}
	if !s.Start.Equal(start) || !s.End.Equal(start.Add(2*time.Second)) {
		t.Errorf("span %s–%s, want the warm-up's", s.Start, s.End)
	}
}

// A run that measured past its warm-up is summarised over what came after
// it only.
func TestAccumulatorLeavesTheWarmupOutOnceMeasured(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	a := newAccumulator(2*time.Second, 30*time.Second)
	for i := 0; i < 4; i++ {
		a.add(sec(start, i, int64(100*(i+1)), float64(10*(i+1)), 1))
	}
	a.stopped = true
	s := a.summary()
	if s.WarmupOnly || s.Seconds != 2 || s.Requests != 700 || s.Busy != 35 {
		t.Fatalf("summary %+v; want seconds 3 and 4 only: 700 requests, 35 busy", s)
	}
}
