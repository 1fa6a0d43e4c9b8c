package correlate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// FromRun builds the input for a run's result: its per-second windows and
// exemplars, with the plan's p99 SLO and observe section.
func FromRun(r generator.Result, p *plan.Plan) Input {
	in := Input{Seconds: make([]Point, 0, len(r.Seconds))}
	for _, s := range r.Seconds {
		pt := Point{At: s.Start, Rate: float64(s.Requests), P99Ms: s.Latency.P99, Requests: s.Requests}
		if s.Requests > 0 {
			pt.ErrorRate = float64(s.Errors) / float64(s.Requests)
		}
		in.Seconds = append(in.Seconds, pt)
		for _, e := range s.Exemplars {
			if e.TraceID != "" {
				in.Exemplars = append(in.Exemplars, Exemplar{TraceID: e.TraceID, At: e.At, LatencyMs: e.LatencyMs, Name: e.Name})
			}
		}
	}
	withPlan(&in, p)
	return in
}

// FromStudy builds the input for a study's steps. capacity.Step records no
// wall-clock times, so they come from a StepClock that watched the study's
// progress events; steps it did not see are left out.
func FromStudy(s capacity.Study, p *plan.Plan, clock *StepClock) (Input, error) {
	var in Input
	for _, st := range s.Steps {
		start, end, ok := clock.measured(st)
		if !ok {
			continue
		}
		reqPerIter := 1.0
		if st.Achieved > 0 && st.Throughput > 0 {
			reqPerIter = st.Throughput / st.Achieved
		}
		in.Steps = append(in.Steps, Step{Start: start, End: end, Offered: st.Offered * reqPerIter, Achieved: st.Throughput,
			P99Ms: st.Latency.P99, ErrorRate: st.ErrorRate, InFlight: st.InFlight})
	}
	if len(in.Steps) == 0 {
		return in, fmt.Errorf("study %q: no step has wall-clock times (pass the StepClock given to capacity's Options.Progress)", s.Plan)
	}
	withPlan(&in, p)
	if s.Capacity.RequiredRPS > 0 {
		in.TargetRPS = s.Capacity.RequiredRPS
	}
	return in, nil
}

func withPlan(in *Input, p *plan.Plan) {
	if p == nil {
		return
	}
	in.SLOP99Ms = float64(p.SLO.P99) / float64(time.Millisecond)
	in.Observe = p.Observe
	if in.TargetRPS == 0 {
		in.TargetRPS = p.Capacity.RequiredRPS
	}
}

// ExplainRun explains a finished run with the plan's Prometheus and Tempo:
// the one call that attaches findings to `headroom run`.
func ExplainRun(ctx context.Context, r generator.Result, p *plan.Plan) (Report, error) {
	return Explain(ctx, FromRun(r, p), SourcesFor(p.Observe, 0))
}

// ExplainStudy explains a finished study with the plan's Prometheus and
// Tempo: the one call that attaches findings to `headroom capacity`.
func ExplainStudy(ctx context.Context, s capacity.Study, p *plan.Plan, clock *StepClock) (Report, error) {
	in, err := FromStudy(s, p, clock)
	if err != nil {
		return Report{}, err
	}
	return Explain(ctx, in, SourcesFor(p.Observe, 0))
}

// StepClock records when each step of a capacity study started and
// ended, from its progress events; give its Observe to
// capacity.Options.Progress (chaining any other callback).
type StepClock struct {
	mu    sync.Mutex
	now   func() time.Time
	start map[int]time.Time
	end   map[int]time.Time
}

// NewStepClock returns an empty clock reading the wall clock.
func NewStepClock() *StepClock {
	return &StepClock{now: time.Now, start: map[int]time.Time{}, end: map[int]time.Time{}}
}

// Observe notes a progress event: a step starts when it has no verdict yet
// and ends when it has one.
func (c *StepClock) Observe(ev capacity.Event) {
	if ev.Step <= 0 || ev.Phase == capacity.PhaseCooldown {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Verdict == "" {
		if _, ok := c.start[ev.Step]; !ok {
			c.start[ev.Step] = c.now()
		}
		return
	}
	c.end[ev.Step] = c.now()
}

// measured is the step's measured part: its last Seconds before it ended.
func (c *StepClock) measured(st capacity.Step) (time.Time, time.Time, bool) {
	if c == nil {
		return time.Time{}, time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	end, ok := c.end[st.Index]
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	start := end.Add(-time.Duration(st.Seconds * float64(time.Second)))
	if s, ok := c.start[st.Index]; ok && start.Before(s) {
		start = s
	}
	return start, end, end.After(start)
}
