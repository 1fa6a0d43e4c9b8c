package correlate

import (
	"context"
	"fmt"
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

// ExplainRun explains a finished run with the plan's Prometheus and Tempo:
// the one call that attaches findings to `headroom run`.
func ExplainRun(ctx context.Context, r generator.Result, p *plan.Plan) (Report, error) {
	return Explain(ctx, FromRun(r, p), SourcesFor(p.Observe, 0))
}

// ExplainStudy explains a finished study with the plan's Prometheus and
// Tempo: the one call that attaches findings to `headroom capacity`.
func ExplainStudy(ctx context.Context, s capacity.Study, p *plan.Plan) (Report, error) {
	return ExplainStudyWith(ctx, s, p, nil)
}

// ExplainStudyWith is ExplainStudy with the traces a TraceKeeper kept
// while the study ran (k.Kept()), read before the trace store, which may
// have dropped them; what the keeper could not keep is noted.
func ExplainStudyWith(ctx context.Context, s capacity.Study, p *plan.Plan, k *TraceKeeper) (Report, error) {
	in, err := FromStudy(s, p)
	if err != nil {
		return Report{}, err
	}
	in.Kept = k.Kept()
	rep, err := Explain(ctx, in, SourcesFor(p.Observe, 0))
	if rep.Window.Found {
		rep.Notes = append(rep.Notes, k.Problems()...)
	}
	return rep, err
}
