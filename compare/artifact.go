package compare

import (
	"errors"
	"fmt"
	"math"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
)

// Artifacts compares two documents of the same kind. Runs are compared
// by all their windows. Studies are compared by their single-instance
// capacity — a regression when the current study's lowest unacceptable
// rate is at or below the baseline's highest acceptable one, by at least
// MaxRegression — and by the windows of their baseline steps, which ran
// at the same offered rate.
func Artifacts(base, current pipeline.Artifact, o Options) (Result, error) {
	if base.Kind != current.Kind {
		return Result{}, fmt.Errorf("compare: a %s against a %s: compare two runs or two studies", base.Kind, current.Kind)
	}
	switch base.Kind {
	case pipeline.KindRun:
		if base.Run == nil || current.Run == nil || base.Run.Result == nil || current.Run.Result == nil {
			return Result{}, errors.New("compare: a run document without its result")
		}
		return Windows(base.Run.Seconds, current.Run.Seconds, o)
	case pipeline.KindStudy:
		if base.Study == nil || current.Study == nil || base.Study.Study == nil || current.Study.Study == nil {
			return Result{}, errors.New("compare: a study document without its study")
		}
		return studies(base.Study, current.Study, o)
	}
	return Result{}, fmt.Errorf("compare: unknown kind %q", base.Kind)
}

// studies compares two studies.
func studies(b, c *pipeline.StudyResult, o Options) (Result, error) {
	o = o.withDefaults()
	capDelta := capacityDelta(b.Study.Capacity, c.Study.Capacity, o)
	bw, bRate := baselineWindows(b)
	cw, cRate := baselineWindows(c)
	var res Result
	var note string
	switch {
	case len(bw) == 0 || len(cw) == 0:
		note = "no baseline-step windows on a side: only the capacity is compared"
	case math.Abs(bRate-cRate) > 1e-9*math.Max(bRate, cRate):
		note = fmt.Sprintf("the baseline steps ran at different rates (%g and %g it/s): only the capacity is compared", bRate, cRate)
	default:
		r, err := Windows(bw, cw, o)
		if err != nil {
			return Result{}, fmt.Errorf("baseline step: %w", err)
		}
		res = r
		note = fmt.Sprintf("request names compared over the baseline steps at %g it/s", bRate)
	}
	res.MaxRegression, res.Alpha, res.Rule = o.MaxRegression, o.Alpha, Rule
	res.Capacity = &capDelta
	res.Notes = append(res.Notes, note)
	res.decide()
	return res, nil
}

// capacityDelta compares single-instance capacities by their brackets:
// the truth lies between the highest acceptable and the lowest
// unacceptable rate a search measured.
func capacityDelta(b, c capacity.Bounds, o Options) Delta {
	d := Delta{Metric: "capacity_rps", Base: b.SingleInstanceRPS, Current: c.SingleInstanceRPS, Test: TestBracket,
		Note: "a bracket comparison of the searches (highest acceptable, lowest unacceptable rate), not a statistical test: no p-value"}
	d.Change = d.Current - d.Base
	if d.Base != 0 {
		d.ChangePct = d.Change / d.Base * 100
	}
	apart := func(lowSide, highSide capacity.Bounds) bool {
		return lowSide.UnacceptableRPS > 0 && lowSide.UnacceptableRPS <= highSide.SingleInstanceRPS
	}
	large := math.Abs(d.Change) >= o.MaxRegression*math.Abs(d.Base)
	switch {
	case apart(c, b): // current broke where the baseline still held
		d.Significant = true
		d.Regressed = large
	case apart(b, c):
		d.Significant = true
		d.Improved = large
	}
	return d
}

// baselineWindows returns the windows of a study's baseline step inside
// its measured span (warm-up excluded), and the step's rate.
func baselineWindows(s *pipeline.StudyResult) ([]generator.SecondRecord, float64) {
	var step *capacity.Step
	for i := range s.Study.Steps {
		if s.Study.Steps[i].Phase == capacity.PhaseBaseline {
			step = &s.Study.Steps[i]
			break
		}
	}
	if step == nil {
		return nil, 0
	}
	var out []generator.SecondRecord
	for _, w := range s.Windows {
		if w.Phase != string(capacity.PhaseBaseline) || w.Step != step.Index {
			continue
		}
		if !step.Start.IsZero() && (w.Start.Before(step.Start) || !w.Start.Before(step.End)) {
			continue
		}
		out = append(out, w.SecondRecord)
	}
	return out, step.Rate
}
