package correlate

import "testing"

// TestCPUStarvationCountsWithoutMoreWork covers a host whose cores are
// taken by other work (the load generator on the same machine): the
// process's own CPU barely moves, yet its goroutines wait ten times longer
// for a CPU. That is CPU saturation; a small scheduler wait is not.
func TestCPUStarvationCountsWithoutMoreWork(t *testing.T) {
	reading := func(schedBase, schedDegraded float64) Reading {
		return Reading{Signal: "cpu_usage", Available: true, HasBaseline: true, Baseline: 0.86, Degraded: 0.95,
			Context: map[string]Pair{
				"gomaxprocs": {Baseline: 2, Degraded: 2},
				"sched_p99":  {Baseline: schedBase, Degraded: schedDegraded},
			}}
	}
	for _, tc := range []struct {
		name         string
		base, degr   float64
		wantSaturate bool
	}{
		{"waits grew from 10 to 108 ms", 0.0096, 0.108, true},
		{"waits stayed near 10 ms", 0.0096, 0.012, false},
		{"waits 25 ms but already 20 ms at baseline", 0.020, 0.025, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := assess(reading(tc.base, tc.degr)).saturated; got != tc.wantSaturate {
				t.Errorf("saturated = %v, want %v", got, tc.wantSaturate)
			}
		})
	}
}
