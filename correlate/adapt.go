package correlate

import (
	"context"
	"fmt"
	"math"
	"sort"
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

// FromStudy builds the input for a study's steps: their measured wall-clock
// spans, rates and latencies, and the slowest requests' trace IDs. Steps
// without times (a study saved before steps carried them) are left out.
func FromStudy(s capacity.Study, p *plan.Plan) (Input, error) {
	var in Input
	reqPerIter := 0.0 // requests per iteration, for steps that measured none
	for _, st := range s.Steps {
		if st.Achieved > 0 && st.Throughput > 0 {
			reqPerIter = st.Throughput / st.Achieved
			break
		}
	}
	for _, st := range s.Steps {
		if st.Start.IsZero() || !st.End.After(st.Start) {
			continue
		}
		ratio := reqPerIter
		if st.Achieved > 0 && st.Throughput > 0 {
			ratio = st.Throughput / st.Achieved
		}
		if ratio <= 0 {
			ratio = 1
		}
		offered := st.Offered
		if offered <= 0 {
			offered = st.Rate // a step that measured nothing: the rate asked for
		}
		in.Steps = append(in.Steps, Step{Start: st.Start, End: st.End, Phase: st.Phase, Index: st.Index, Offered: offered * ratio, Achieved: st.Throughput,
			P99Ms: st.Latency.P99, ErrorRate: st.ErrorRate, InFlight: st.InFlight, Verdict: st.Verdict, Cut: st.Seconds == 0 && st.Stopped})
		for _, e := range st.Exemplars {
			in.Exemplars = append(in.Exemplars, Exemplar{TraceID: e.TraceID, At: e.At, LatencyMs: e.LatencyMs, Name: e.Name})
		}
	}
	if len(in.Steps) == 0 {
		return in, fmt.Errorf("study %q: no step has wall-clock times (\"start\"/\"end\")", s.Plan)
	}
	withPlan(&in, p)
	if a := s.Recommendation.AutoscaleAt; in.Options.Utilisation == 0 && a > 0 && a <= 1 {
		in.Options.Utilisation = a // no plan: the study's own autoscale_at
	}
	if r := s.Recommendation; r.AutoscaleRPS > 0 && r.MinInstances > 0 && r.SustainedRPS > 0 { // business inputs given
		in.Fleet = &Fleet{AutoscaleRPS: r.AutoscaleRPS, SustainedRPS: r.SustainedRPS, PeakRPS: r.PeakRPS,
			MinInstances: r.MinInstances, MaxInstances: r.MaxInstances}
	}
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
	if a := p.Capacity.AutoscaleAt; a > 0 && a <= 1 {
		in.Options.Utilisation = a
	}
	if in.TargetRPS == 0 {
		in.TargetRPS = p.Capacity.RequiredRPS
	}
}

// StepSecond is one second a study sent, with the step it belongs to: the
// windows study.json keeps. A stress run's seconds have PhaseStress.
type StepSecond struct {
	Phase  capacity.Phase
	Step   int // the step's Index
	Second generator.SecondRecord
}

// AddUnmeasured adds to a study's input the load its steps do not show: a
// step the study judged unacceptable though it was stopped before its
// warm-up ended (it has no measured span; its seconds give it one, marked
// Cut), and the stress run's hold (judged by its p99 like a step without a
// verdict). Both are overload a degraded window must not lose.
func (in *Input) AddUnmeasured(s capacity.Study, secs []StepSecond) {
	type key struct {
		phase capacity.Phase
		step  int
	}
	by := map[key][]generator.SecondRecord{}
	var stress []generator.SecondRecord
	for _, sc := range secs {
		if sc.Phase == capacity.PhaseStress {
			stress = append(stress, sc.Second)
			continue
		}
		by[key{sc.Phase, sc.Step}] = append(by[key{sc.Phase, sc.Step}], sc.Second)
	}
	for _, st := range s.Steps {
		if (!st.Start.IsZero() && st.End.After(st.Start)) || st.Verdict != capacity.Unacceptable {
			continue
		}
		if step, ok := stepOfSeconds(by[key{st.Phase, st.Index}], 0); ok {
			step.Phase, step.Index, step.Verdict, step.Cut = st.Phase, st.Index, st.Verdict, true
			step.Offered = math.Max(st.Offered, st.Rate)
			in.Steps = append(in.Steps, step)
		}
	}
	if s.Stress.Skipped == "" && s.Stress.HoldS > 0 {
		if step, ok := stepOfSeconds(stress, time.Duration(s.Stress.HoldS*float64(time.Second))); ok {
			step.Phase, step.Offered = capacity.PhaseStress, s.Stress.Rate
			in.Steps = append(in.Steps, step)
		}
	}
	sort.SliceStable(in.Steps, func(i, j int) bool { return in.Steps[i].Start.Before(in.Steps[j].Start) })
}

// stepOfSeconds summarises seconds (the first hold of them when hold > 0):
// their span, request-weighted p99 and throughput.
func stepOfSeconds(secs []generator.SecondRecord, hold time.Duration) (Step, bool) {
	if len(secs) == 0 {
		return Step{}, false
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i].Start.Before(secs[j].Start) })
	st := Step{Start: secs[0].Start}
	var reqs, errs int64
	var p99 float64
	for _, sc := range secs {
		d := time.Duration(sc.DurationS * float64(time.Second))
		if d <= 0 {
			d = time.Second
		}
		if hold > 0 && sc.Start.Add(d).After(st.Start.Add(hold)) {
			break
		}
		st.End = sc.Start.Add(d)
		reqs += sc.Requests
		errs += sc.Errors
		p99 += sc.Latency.P99 * float64(sc.Requests)
	}
	if !st.End.After(st.Start) {
		return Step{}, false
	}
	if reqs > 0 {
		st.P99Ms = p99 / float64(reqs)
		st.ErrorRate = float64(errs) / float64(reqs)
	}
	st.Achieved = float64(reqs) / st.End.Sub(st.Start).Seconds()
	return st, true
}

// ExplainRun explains a finished run with the plan's Prometheus and Tempo:
// the one call that attaches findings to `headroom run`. dsn is
// observe.database's connection string, resolved by the caller ("" when
// the plan has none or its variable is unset: no EXPLAIN).
func ExplainRun(ctx context.Context, r generator.Result, p *plan.Plan, dsn string) (Report, error) {
	src := SourcesFor(p.Observe, 0)
	src.DSN = dsn
	return Explain(ctx, FromRun(r, p), src)
}

// ExplainStudy explains a finished study with the plan's Prometheus and
// Tempo: the one call that attaches findings to `headroom capacity`.
func ExplainStudy(ctx context.Context, s capacity.Study, p *plan.Plan) (Report, error) {
	return ExplainStudyWith(ctx, s, p, nil)
}

// ExplainStudyWith is ExplainStudy with the traces a TraceKeeper kept
// while the study ran (k.Kept()), read before the trace store, which may
// have dropped them; what the keeper could not keep is noted. Without a
// DSN it explains no statements.
func ExplainStudyWith(ctx context.Context, s capacity.Study, p *plan.Plan, k *TraceKeeper) (Report, error) {
	return ExplainStudySeconds(ctx, s, p, k, nil, "")
}

// ExplainStudySeconds is ExplainStudyWith with the study's seconds, so a
// step cut short in its warm-up and the stress hold count as degraded
// evidence (Input.AddUnmeasured), and with dsn, observe.database's
// connection string resolved by the caller (see ExplainRun).
func ExplainStudySeconds(ctx context.Context, s capacity.Study, p *plan.Plan, k *TraceKeeper, secs []StepSecond, dsn string) (Report, error) {
	in, err := FromStudy(s, p)
	if err != nil {
		return Report{}, err
	}
	in.AddUnmeasured(s, secs)
	in.Kept = k.Kept()
	src := SourcesFor(p.Observe, 0)
	src.DSN = dsn
	rep, err := Explain(ctx, in, src)
	if rep.Window.Found {
		rep.Notes = append(rep.Notes, k.Problems()...)
	}
	return rep, err
}
