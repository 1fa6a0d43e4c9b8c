package pipeline

import (
	"context"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/plan"
)

// ExplainScaling says why the study's N instances fell short of the
// prediction: it reads each instance (the plan's service components, by
// their Prometheus instance label) and the shared components during the
// verify steps, and decides between the generator, imbalance, a shared
// host, database or pooler, and one slow instance. False when
// verification did not fall short (or did not run). Prometheus being
// unreachable degrades the finding (its facts say what could not be
// read); it never fails.
func ExplainScaling(ctx context.Context, p *plan.Plan, study *capacity.Study) (correlate.Scaling, bool) {
	if study == nil {
		return correlate.Scaling{}, false
	}
	in, ok := correlate.ScalingInputOf(*study, p)
	if !ok {
		return correlate.Scaling{}, false
	}
	var m correlate.Metrics
	if p != nil && p.Observe.Prometheus != "" {
		if prom, err := correlate.NewPrometheus(p.Observe.Prometheus, 10*time.Second); err == nil {
			m = prom
		}
	}
	return correlate.DecideScaling(in, correlate.ReadScaling(ctx, m, in.Observe, in.Steps)), true
}

// explainScaling puts the cause of a fleet's shortfall in the study's
// scaling note and returns the finding to attach; nil when there is none.
func explainScaling(ctx context.Context, p *plan.Plan, study *capacity.Study) *correlate.Finding {
	sc, ok := ExplainScaling(ctx, p, study)
	if !ok {
		return nil
	}
	study.ExplainScaling(sc.Statement)
	return &sc.Finding
}

// attachScaling adds the scaling finding after the degradation window's
// findings, ranked last: it answers another question (why the fleet fell
// short), so it never displaces the top bottleneck.
func (r *StudyResult) attachScaling(f *correlate.Finding) {
	if f == nil {
		return
	}
	f.Rank = len(r.Findings) + 1
	r.Findings = append(r.Findings, *f)
	if r.Correlation != nil {
		r.Correlation.Findings = r.Findings
	}
}
