package pipeline

import (
	"context"
	"fmt"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// PhaseAssess is the study's last phase: climbing against the autoscaled
// fleet at capacity.assess_url.
const PhaseAssess = "assess"

// assessInput is what a study's recommendation asks Assess to check: from
// the sustained load to the peak (or, without business inputs, from the
// threshold of one instance to the threshold of the most instances).
func assessInput(p *plan.Plan, r capacity.Recommendation) (capacity.AssessInput, error) {
	in := capacity.AssessInput{
		URL: p.Capacity.AssessURL, From: r.SustainedRPS, To: r.PeakRPS,
		ThresholdRPS: r.AutoscaleRPS, UnacceptableRPS: r.BasisRPS, MaxInstances: r.MaxInstances,
		Ramp: max(2*p.Capacity.StepDuration, 0), Hold: p.Capacity.StepDuration,
	}
	if in.From <= 0 {
		in.From = r.AutoscaleRPS / 2
	}
	if in.To <= in.From {
		in.To = r.AutoscaleRPS * float64(max(r.MaxInstances, 2))
	}
	if in.ThresholdRPS <= 0 || in.UnacceptableRPS <= 0 {
		return in, fmt.Errorf("the study recommended no autoscaling threshold to assess")
	}
	return in, nil
}

// assess runs Assess after a study when the plan names an assess_url.
func assess(ctx context.Context, p *plan.Plan, s Settings, h Hooks, r *StudyResult) {
	if p.Capacity.AssessURL == "" || ctx.Err() != nil || r.Study == nil {
		return
	}
	in, err := assessInput(p, r.Recommendation)
	if err != nil {
		r.Notes = append(r.Notes, "assess: "+err.Error())
		return
	}
	h.phase(PhaseAssess)
	a, err := capacity.Assess(ctx, s.capped(p), in, ReplicasOf(p, s), generator.Options{
		Warn: h.warn,
		OnSecond: func(sec generator.Second) {
			if h.OnWindow != nil {
				h.OnWindow(Window{Phase: PhaseAssess, SecondRecord: generator.Record(sec)})
			}
		},
	})
	if err != nil {
		r.Notes = append(r.Notes, "assess: "+err.Error())
		return
	}
	r.Assess = &a
	if !a.Held && r.Outcome == Passed {
		r.Outcome = Failed
	}
}
