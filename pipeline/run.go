package pipeline

import (
	"context"
	"errors"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// Run runs the plan's load profile with the settings, checks its
// objectives and, unless s.NoCorrelate, explains it from the plan's
// Prometheus and trace store. A bad plan or settings return a *plan.Error
// (or plan.Errors) before any load is sent; a cancelled ctx returns the
// partial result with Outcome Cancelled and a nil error.
func Run(ctx context.Context, p *plan.Plan, s Settings, h Hooks) (*RunResult, error) {
	if p == nil {
		return nil, errors.New("pipeline: no plan")
	}
	if err := s.check(p, KindRun); err != nil {
		return nil, err
	}
	h = h.serialized()
	h.phase(PhaseRun)
	res, err := generator.Run(ctx, s.capped(p), generator.Options{
		BaseURL: s.BaseURL,
		Warn:    h.warn,
		OnSecond: func(sec generator.Second) {
			if h.OnWindow != nil {
				h.OnWindow(Window{Phase: PhaseRun, SecondRecord: generator.Record(sec)})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	r := &RunResult{Kind: KindRun, Plan: p.Name, Result: res, SLO: Evaluate(p.RunObjectives(), res), Findings: []correlate.Finding{}}
	cancelled := ctx.Err() != nil && res.Aborted == ""
	switch {
	case cancelled:
		r.Outcome = Cancelled
	case res.Aborted != "":
		r.Outcome = Aborted
	case !AllPass(r.SLO):
		r.Outcome = Failed
	default:
		r.Outcome = Passed
	}
	if h.OnMeasured != nil {
		h.OnMeasured(r)
	}
	if !s.NoCorrelate && !cancelled {
		r.attach(explain(ctx, p, h, func(ctx context.Context) (correlate.Report, error) {
			return correlate.ExplainRun(ctx, *res, p)
		}))
	}
	return r, nil
}

func (r *RunResult) attach(rep *correlate.Report) {
	if rep != nil {
		r.Correlation, r.Findings = rep, rep.Findings
	}
}
