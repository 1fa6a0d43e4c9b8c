package capacity

import (
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// assessRun is a climb from 10 to 100 it/s over 90 s (1 it/s each second)
// with the given p99 per second and replicas rising by one, lag s after
// each threshold crossing.
func assessRun(threshold float64, lag int, p99 func(i int, perInstance float64) float64) (*generator.Result, []ReplicaSample) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res := &generator.Result{Start: start}
	serving, pending := 1.0, -1
	var samples []ReplicaSample
	for i := range 90 {
		at := start.Add(time.Duration(i) * time.Second)
		offered := 10 + float64(i)
		if pending >= 0 && i >= pending {
			serving++
			pending = -1
		}
		if offered/serving > threshold && pending < 0 && serving < 4 {
			pending = i + lag
		}
		samples = append(samples, ReplicaSample{At: at, Desired: serving, Serving: serving})
		res.Seconds = append(res.Seconds, generator.SecondRecord{Start: at, Offered: offered, Requests: int64(offered),
			Latency: generator.Latency{P99: p99(i, offered/serving)}})
	}
	res.End = start.Add(90 * time.Second)
	return res, samples
}

func slo(p99 time.Duration) *plan.Plan { return &plan.Plan{SLO: plan.SLO{P99: p99}} }

// Unacceptable at 40 req/s per instance (p99 past 500 ms there), new
// capacity serving 12 s after a crossing, load climbing 1 it/s each second:
// the per-instance load climbs 12 req/s while it waits on one instance, so
// the highest safe threshold is 40 − 12 = 28. At 20 the SLOs hold; at 38
// they break, and the correction is 28 (70%).
func TestAssessJudgesThresholdAgainstTheLag(t *testing.T) {
	p99 := func(_ int, per float64) float64 {
		if per > 40 {
			return 2000
		}
		return 50
	}
	in := AssessInput{From: 10, To: 100, Ramp: 90 * time.Second, Hold: time.Second, UnacceptableRPS: 40, MaxInstances: 4}

	in.ThresholdRPS = 20
	res, samples := assessRun(20, 12, p99)
	a := Assessment{Input: in.withDefaults(), MaxInstances: 4, GrowthRPS: 1, Misses: []Miss{}}
	a.judge(slo(500*time.Millisecond), res, samples)
	if !a.Held || a.Verdict != "passed" || a.Corrected != nil || a.MaxLagS != 12 || a.MostServing != 4 {
		t.Errorf("threshold 20: %s (held %v, lag %v, most %v, corrected %+v)", a.Statement, a.Held, a.MaxLagS, a.MostServing, a.Corrected)
	}

	in.ThresholdRPS = 38
	res, samples = assessRun(38, 12, p99)
	a = Assessment{Input: in.withDefaults(), MaxInstances: 4, GrowthRPS: 1, Misses: []Miss{}}
	a.judge(slo(500*time.Millisecond), res, samples)
	if a.Held || a.Verdict != "failed" || a.MissCount == 0 {
		t.Fatalf("threshold 38: %s; want failed", a.Statement)
	}
	if a.Corrected == nil || a.Corrected.ThresholdRPS != 28 || a.Corrected.AutoscaleAt != 0.7 {
		t.Fatalf("threshold 38: correction %+v; want 28 req/s (70%%)", a.Corrected)
	}
	arith := strings.Join(a.Arithmetic, "\n")
	for _, want := range []string{"1.00 × 12 ÷ 1 = 12", "40 − 12 = 28"} {
		if !strings.Contains(arith, want) {
			t.Errorf("arithmetic lacks %q:\n%s", want, arith)
		}
	}
	if !strings.Contains(a.Statement, "SLOs broke in") || !strings.Contains(a.Statement, "instead of 38") {
		t.Errorf("statement %q", a.Statement)
	}
}
