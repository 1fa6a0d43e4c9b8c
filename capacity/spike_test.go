package capacity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

type fakeReplicas []ReplicaSample

func (f fakeReplicas) Replicas(context.Context, time.Time, time.Time) ([]ReplicaSample, error) {
	return f, nil
}

// A spike of 10 s before, 2 s ramps, a 5 s hold: the seconds from the jump
// to the end of the drop are slow and some fail; the 4 seconds after the
// drop are still slow, then every second is back: recovered 4 s after the
// drop. The autoscaler wanted more 3 s after the jump and served them 8 s
// after it.
func TestJudgeSpikeMeasuresErrorsP99AndRecovery(t *testing.T) {
	sp := SpikeProfile{Baseline: 10, Peak: 100, Before: 10 * time.Second, Ramp: 2 * time.Second, Hold: 5 * time.Second, After: 30 * time.Second}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var secs []generator.SecondRecord
	for i := range 49 {
		s := generator.SecondRecord{Start: start.Add(time.Duration(i) * time.Second), Requests: 10, Latency: generator.Latency{P99: 20}}
		switch {
		case i >= 10 && i < 19: // jump, hold, drop
			s.Requests, s.Errors, s.Latency.P99 = 80, 8, 900+float64(i)
		case i >= 19 && i < 23: // still draining
			s.Latency.P99 = 300
		}
		secs = append(secs, s)
	}
	p := &plan.Plan{}
	reps := fakeReplicas{
		{At: start.Add(5 * time.Second), Desired: 1, Serving: 1},
		{At: start.Add(13 * time.Second), Desired: 3, Serving: 1},
		{At: start.Add(18 * time.Second), Desired: 3, Serving: 3},
	}
	got := JudgeSpike(context.Background(), p, sp, start, secs, reps)
	if got.BaselineP99 != 20 || got.WorstP99 != 918 || got.Errors != 72 || got.Requests != 720 {
		t.Errorf("baseline p99 %v worst %v errors %d/%d; want 20, 918, 72/720", got.BaselineP99, got.WorstP99, got.Errors, got.Requests)
	}
	if !got.Recovered || got.RecoveryS == nil || *got.RecoveryS != 4 || got.Verdict != "recovered" {
		t.Fatalf("recovery %+v; want recovered 4 s after the drop", got)
	}
	r := got.Scaling
	if r == nil || r.DecidedS == nil || *r.DecidedS != 3 || r.ServingS == nil || *r.ServingS != 8 || r.Before != 1 || r.Most != 3 {
		t.Errorf("autoscaler %+v; want decided after 3 s, serving after 8 s, 1 → 3", r)
	}
	for _, want := range []string{"from 10 to 100 it/s", "72 errors of 720", "4s after the drop", "decided after 3s", "served after 8s"} {
		if !strings.Contains(got.Statement, want) {
			t.Errorf("statement %q lacks %q", got.Statement, want)
		}
	}

	// Cut off 5 s after the drop: never 10 good seconds in a row.
	got = JudgeSpike(context.Background(), p, sp, start, secs[:24], nil)
	if got.Recovered || got.RecoveryS != nil || got.Verdict != "did not recover" || got.Scaling != nil {
		t.Errorf("cut-off spike %+v; want not recovered, no autoscaler", got)
	}
}

func TestSpikeProfileFromThePlan(t *testing.T) {
	p := &plan.Plan{Load: plan.Load{Stages: []plan.Stage{{Duration: time.Second, Target: 0}, {Duration: time.Second, Target: 25}}},
		Spike: plan.Spike{Factor: 4, Ramp: time.Second, Hold: 3 * time.Second, Before: 2 * time.Second, After: 4 * time.Second}}
	sp := NewSpikeProfile(p)
	if sp.Baseline != 25 || sp.Peak != 100 {
		t.Errorf("profile %+v; want 25 → 100", sp)
	}
	l := sp.Load(plan.ModelOpen, 50)
	var total time.Duration
	for _, s := range l.Stages {
		total += s.Duration
	}
	if l.Start != 25 || total != 11*time.Second || l.Stages[2].Target != 100 {
		t.Errorf("load %+v", l)
	}
}
