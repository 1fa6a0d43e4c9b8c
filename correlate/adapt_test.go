package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

func TestFromRunCopiesWindowsExemplarsAndPlan(t *testing.T) {
	r := generator.Result{Seconds: []generator.SecondRecord{
		{Start: t0, Requests: 50, Errors: 5, Latency: generator.Latency{P99: 42}},
		{Start: t0.Add(time.Second), Requests: 60, Latency: generator.Latency{P99: 900},
			Exemplars: []generator.Exemplar{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Name: "list", LatencyMs: 950, At: t0.Add(1500 * time.Millisecond)}, {Name: "untraced"}}},
	}}
	p := &plan.Plan{SLO: plan.SLO{P99: 400 * time.Millisecond}, Observe: plan.Observe{Service: "shop"}, Capacity: plan.Capacity{RequiredRPS: 300}}
	in := FromRun(r, p)
	if len(in.Seconds) != 2 || in.Seconds[0].Rate != 50 || in.Seconds[0].ErrorRate != 0.1 || in.Seconds[1].P99Ms != 900 {
		t.Errorf("seconds %+v", in.Seconds)
	}
	if len(in.Exemplars) != 1 || in.Exemplars[0].LatencyMs != 950 {
		t.Errorf("exemplars %+v (the untraced one must be dropped)", in.Exemplars)
	}
	if in.SLOP99Ms != 400 || in.Observe.Service != "shop" || in.TargetRPS != 300 {
		t.Errorf("plan fields: slo %v service %q target %v", in.SLOP99Ms, in.Observe.Service, in.TargetRPS)
	}
}

func TestStepClockTimesStudySteps(t *testing.T) {
	now := t0
	clock := NewStepClock()
	clock.now = func() time.Time { return now }
	clock.Observe(capacity.Event{Phase: capacity.PhaseBaseline, Step: 1})
	now = now.Add(30 * time.Second)
	clock.Observe(capacity.Event{Phase: capacity.PhaseBaseline, Step: 1, Verdict: capacity.Acceptable})
	now = now.Add(10 * time.Second)
	clock.Observe(capacity.Event{Phase: capacity.PhaseCooldown, Step: 1})
	clock.Observe(capacity.Event{Phase: capacity.PhaseExplore, Step: 2})
	now = now.Add(30 * time.Second)
	clock.Observe(capacity.Event{Phase: capacity.PhaseExplore, Step: 2, Verdict: capacity.Unacceptable})

	s := capacity.Study{Plan: "p", Steps: []capacity.Step{
		{Index: 1, Offered: 10, Achieved: 10, Throughput: 20, Seconds: 24, Latency: capacity.Latency{P99: 40}},
		{Index: 2, Offered: 20, Achieved: 20, Throughput: 40, Seconds: 24, Latency: capacity.Latency{P99: 900}},
		{Index: 3, Seconds: 24}, // never seen by the clock
	}}
	in, err := FromStudy(s, &plan.Plan{SLO: plan.SLO{P99: 400 * time.Millisecond}}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Steps) != 2 {
		t.Fatalf("steps %+v", in.Steps)
	}
	st := in.Steps[1]
	if !st.End.Equal(t0.Add(70*time.Second)) || !st.Start.Equal(t0.Add(46*time.Second)) || st.Offered != 40 || st.Achieved != 40 {
		t.Errorf("step 2 %+v: want the last 24 s before 70 s, 40 requests/s", st)
	}
	w, err := FindWindow(in)
	if err != nil || !w.Found || !w.Onset.Equal(st.Start) {
		t.Errorf("window %+v err %v", w, err)
	}
	if _, err := FromStudy(s, nil, NewStepClock()); err == nil || !strings.Contains(err.Error(), "StepClock") {
		t.Errorf("study without times: error %v", err)
	}
}
