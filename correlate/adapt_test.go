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

func TestFromStudyUsesStepTimesAndExemplars(t *testing.T) {
	s := capacity.Study{Plan: "p", Steps: []capacity.Step{
		{Index: 1, Offered: 10, Achieved: 10, Throughput: 20, Seconds: 24, Latency: capacity.Latency{P99: 40},
			Start: t0.Add(6 * time.Second), End: t0.Add(30 * time.Second)},
		{Index: 2, Offered: 20, Achieved: 20, Throughput: 40, Seconds: 24, Latency: capacity.Latency{P99: 900},
			Start: t0.Add(46 * time.Second), End: t0.Add(70 * time.Second),
			Exemplars: []generator.Exemplar{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Name: "GET /", LatencyMs: 950, At: t0.Add(50 * time.Second)}}},
		{Index: 3, Seconds: 24}, // saved without times: left out
	}}
	in, err := FromStudy(s, &plan.Plan{SLO: plan.SLO{P99: 400 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Steps) != 2 {
		t.Fatalf("steps %+v", in.Steps)
	}
	st := in.Steps[1]
	if !st.End.Equal(t0.Add(70*time.Second)) || !st.Start.Equal(t0.Add(46*time.Second)) || st.Offered != 40 || st.Achieved != 40 {
		t.Errorf("step 2 %+v: want 46 s to 70 s, 40 requests/s", st)
	}
	if len(in.Exemplars) != 1 || in.Exemplars[0].TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || in.Exemplars[0].LatencyMs != 950 {
		t.Errorf("exemplars %+v", in.Exemplars)
	}
	w, err := FindWindow(in)
	if err != nil || !w.Found || !w.Onset.Equal(st.Start) {
		t.Errorf("window %+v err %v", w, err)
	}
	if _, err := FromStudy(capacity.Study{Plan: "p", Steps: s.Steps[2:]}, nil); err == nil || !strings.Contains(err.Error(), "wall-clock") {
		t.Errorf("study without times: error %v", err)
	}
}

func TestFromStudyTakesTheStudysInstanceCounts(t *testing.T) {
	s := capacity.Study{Steps: []capacity.Step{{Start: time.Unix(100, 0), End: time.Unix(110, 0), Throughput: 50, Achieved: 50}},
		Recommendation: capacity.Recommendation{AutoscaleRPS: 400, SustainedRPS: 666.7, PeakRPS: 4000, MinInstances: 3, MaxInstances: 20}}
	in, err := FromStudy(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Fleet == nil || in.Fleet.MinInstances != 3 || in.Fleet.MaxInstances != 20 || in.Fleet.AutoscaleRPS != 400 {
		t.Errorf("fleet %+v, want the study's counts", in.Fleet)
	}
	s.Recommendation.SustainedRPS = 0 // no business inputs: nothing to agree with
	if in, _ := FromStudy(s, nil); in.Fleet != nil {
		t.Errorf("fleet %+v without business inputs, want none", in.Fleet)
	}
}
