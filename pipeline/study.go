package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// Study carries out a whole capacity study of the plan with the settings
// and, unless s.NoCorrelate, explains its degradation from the plan's
// Prometheus and trace store.
//
// A bad plan or settings return a *plan.Error (or plan.Errors) before any
// load is sent. Otherwise the result is always the document to keep: a
// cancelled ctx gives the partial study with Outcome Cancelled and a nil
// error; a study that could not finish gives the partial study with
// Outcome Failed and the error that stopped it.
func Study(ctx context.Context, p *plan.Plan, s Settings, h Hooks) (*StudyResult, error) {
	return study(ctx, p, s, h, capacity.NewProberWith)
}

// study is Study with the load engine as a parameter, so tests can run a
// whole study in virtual time.
func study(ctx context.Context, p *plan.Plan, s Settings, h Hooks, newProber func(*plan.Plan, capacity.ProberHooks) capacity.Prober) (*StudyResult, error) {
	if p == nil {
		return nil, errors.New("pipeline: no plan")
	}
	if err := s.check(p, KindStudy); err != nil {
		return nil, err
	}
	h = h.serialized()
	q := s.capped(p)
	opts := s.studyOptions()
	if q.Observe.Prometheus != "" && !s.NoCorrelate { // the CPU an instance shows at the autoscaling threshold
		g, err := correlate.NewCPUGauge(q.Observe, 0)
		if err != nil {
			return nil, &plan.Error{File: p.File, Field: "observe.prometheus", Msg: err.Error()}
		}
		opts.CPU = g
	}
	t := &tracker{h: h}
	opts.Progress = t.event
	// Each step's slow traces are fetched right after the step, before the
	// later steps' traffic pushes them out of the trace store.
	var keeper *correlate.TraceKeeper
	if !s.NoCorrelate {
		keeper = correlate.TraceKeeperFor(q.Observe, 0)
	}
	prober := keeper.Prober(newProber(q, capacity.ProberHooks{Warn: h.warn, OnSecond: t.second, Engine: h.Engine}))
	rec, err := studyProfiles(q, s, t, h)
	if err != nil {
		return nil, &plan.Error{File: p.File, Field: "observe.pprof", Msg: err.Error()}
	}
	prober = rec.Prober(prober)
	study, err := capacity.Run(ctx, q, prober, opts)
	if study == nil || (len(study.Steps) == 0 && isPlanError(err)) {
		return nil, err
	}
	r := &StudyResult{Kind: KindStudy, Study: study, Windows: t.done(), Findings: []correlate.Finding{}}
	switch {
	case ctx.Err() != nil:
		r.Outcome, err = Cancelled, nil
	case err != nil:
		r.Outcome = Failed
	case study.Capacity.RequiredMet != nil && !*study.Capacity.RequiredMet:
		r.Outcome = Failed
	case noneAcceptable(study):
		// Every step broke the objectives (or the 50% error ceiling that
		// holds without them) down to the search's lowest rate: the
		// service carries nothing acceptably, which no study passes.
		r.Outcome = Failed
		note := fmt.Sprintf("failed: no step was acceptable, down to %.4g it/s", lowestRate(study.Steps))
		if why := study.Steps[0].Reasons; len(why) > 0 {
			note += "; the baseline step's reasons: " + strings.Join(why, "; ")
		}
		study.Notes = append(study.Notes, note)
	default:
		r.Outcome = Passed
	}
	if err == nil {
		assess(ctx, q, s, h, r)
	}
	var scaling *correlate.Finding
	if !s.NoCorrelate && ctx.Err() == nil {
		scaling = explainScaling(ctx, q, study)
	}
	if h.OnStudyMeasured != nil {
		h.OnStudyMeasured(r)
	}
	if !s.NoCorrelate && ctx.Err() == nil && len(study.Steps) > 0 {
		r.attach(explain(ctx, p, h, func(ctx context.Context) (correlate.Report, error) {
			return correlate.ExplainStudySeconds(ctx, *study, p, keeper, StepSeconds(r.Windows), h.databaseDSN(p))
		}))
		attachProfiles(rec, study, r, h)
	}
	r.attachScaling(scaling)
	return r, err
}

// StepSeconds are a study's windows as correlation reads them: each second
// with the phase and step it belongs to.
func StepSeconds(ws []Window) []correlate.StepSecond {
	out := make([]correlate.StepSecond, 0, len(ws))
	for _, w := range ws {
		out = append(out, correlate.StepSecond{Phase: capacity.Phase(w.Phase), Step: w.Step, Second: w.SecondRecord})
	}
	return out
}

func (r *StudyResult) attach(rep *correlate.Report) {
	if rep != nil {
		r.Correlation, r.Findings = rep, rep.Findings
	}
}

func isPlanError(err error) bool {
	var one *plan.Error
	var all plan.Errors
	return errors.As(err, &one) || errors.As(err, &all)
}

// tracker labels each second with the step it belongs to, collects the
// windows and passes progress events and finished steps on to the hooks. Events come from the
// study's goroutine, seconds from the generator's; the mutex orders them.
type tracker struct {
	h Hooks

	mu      sync.Mutex
	phase   string // of the step (or cool-down, stress) now running
	step    int
	windows []Window
	shown   string // the last phase passed to OnPhase
}

func (t *tracker) event(e capacity.Event) {
	t.mu.Lock()
	if e.Verdict == "" || e.Phase == capacity.PhaseCooldown {
		t.phase, t.step = string(e.Phase), e.Step
	}
	newPhase := string(e.Phase) != t.shown && e.Phase != capacity.PhaseCooldown // a cool-down belongs to the phase it pauses
	if newPhase {
		t.shown = string(e.Phase)
	}
	t.mu.Unlock()
	if newPhase {
		t.h.phase(string(e.Phase))
	}
	if t.h.OnEvent != nil {
		t.h.OnEvent(e)
	}
	if e.Result != nil && t.h.OnStep != nil {
		t.h.OnStep(*e.Result)
	}
}

// second keeps one closed second under the step now running.
func (t *tracker) second(sec generator.Second) {
	t.mu.Lock()
	w := Window{Phase: t.phase, Step: t.step, SecondRecord: generator.Record(sec)}
	t.windows = append(t.windows, w)
	t.mu.Unlock()
	if t.h.OnWindow != nil {
		t.h.OnWindow(w)
	}
}

// current is the phase and step now running.
func (t *tracker) current() (phase string, step int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.phase, t.step
}

func (t *tracker) done() []Window {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.windows == nil {
		return []Window{}
	}
	return t.windows
}

// noneAcceptable says the single-instance search ran and found no
// acceptable rate at all, for a reason of the service's (not a generator
// limit or a rate cap, which only make the capacity a lower bound).
func noneAcceptable(s *capacity.Study) bool {
	return len(s.Steps) > 0 && s.Capacity.SingleInstanceRate == 0 && !s.Capacity.AtLeast
}

// lowestRate is the lowest rate, in iterations/s, a step ran at.
func lowestRate(steps []capacity.Step) float64 {
	low := steps[0].Rate
	for _, st := range steps[1:] {
		low = min(low, st.Rate)
	}
	return low
}
