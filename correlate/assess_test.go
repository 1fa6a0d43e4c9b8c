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

// TestPoolFactsShowABurstyPool covers a pool that fills in bursts: at most
// scrapes no connection is in use, yet requests queue for one. The fact
// must show the peak beside the mean, not only "0.0 of 10".
func TestPoolFactsShowABurstyPool(t *testing.T) {
	r := Reading{Signal: "pool_wait", Available: true, HasBaseline: true, Baseline: 0, Degraded: 75,
		Context: map[string]Pair{
			"in_use": {Degraded: 0, Peak: 10},
			"max":    {Baseline: 10, Degraded: 10},
		}}
	a := assess(r)
	want := "0.0 of 10 connections in use (0%, mean over the scrapes), up to 10"
	found := false
	for _, f := range a.facts {
		found = found || f == want
	}
	if !found {
		t.Errorf("facts %q lack %q", a.facts, want)
	}
	steady := Reading{Signal: "pool_in_use", Available: true, HasBaseline: true, Degraded: 9.5, Peak: 9.5,
		Context: map[string]Pair{"max": {Degraded: 10}}}
	if got := assess(steady).facts; len(got) == 0 || got[0] != "9.5 of 10 connections in use (95%, mean over the scrapes)" {
		t.Errorf("steady pool: facts %q", got)
	}
}
