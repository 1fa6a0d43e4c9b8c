package pipeline

import (
	"context"
	"errors"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/soak"
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
	sk := startSoak(p)
	var load *plan.Load
	var spike *capacity.SpikeProfile
	switch {
	case sk != nil:
		load = &sk.load
	case p.Spike.Enabled():
		sp := capacity.NewSpikeProfile(p)
		l := sp.Load(p.Load.Model, p.Load.MaxVUs)
		spike, load = &sp, &l
	}
	res, err := h.engine()(ctx, s.capped(p), generator.Options{
		BaseURL: s.BaseURL,
		Load:    load,
		Warn:    h.warn,
		OnSecond: func(sec generator.Second) {
			if h.OnWindow != nil {
				h.OnWindow(Window{Phase: PhaseRun, SecondRecord: generator.Record(sec)})
			}
		},
	})
	if err != nil {
		if sk != nil {
			sk.self.Stop()
		}
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
	if sk != nil {
		h.phase(PhaseSoak)
		r.Soak = sk.finish(ctx, p, res, s.NoCorrelate)
		if r.Outcome == Passed && r.Soak.Verdict == soak.Leak {
			r.Outcome = Failed
		}
	}
	if spike != nil && !cancelled {
		h.phase(PhaseSpike)
		sr := capacity.JudgeSpike(ctx, p, *spike, res.Start, res.Seconds, ReplicasOf(p, s))
		r.Spike = &sr
		if r.Outcome == Passed && !sr.Recovered {
			r.Outcome = Failed
		}
	}
	if h.OnMeasured != nil {
		h.OnMeasured(r)
	}
	if !s.NoCorrelate && !cancelled {
		r.attach(explain(ctx, p, h, func(ctx context.Context) (correlate.Report, error) {
			return correlate.ExplainRun(ctx, *res, p, h.databaseDSN(p))
		}))
	}
	return r, nil
}

func (r *RunResult) attach(rep *correlate.Report) {
	if rep != nil {
		r.Correlation, r.Findings = rep, rep.Findings
	}
}
