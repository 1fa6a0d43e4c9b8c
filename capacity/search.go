package capacity

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Exploration is the result of one capacity search against one URL.
type Exploration struct {
	URL          string  `json:"url"`
	Steps        []Step  `json:"steps"`        // baseline first, in the order run
	Capacity     float64 `json:"capacity"`     // highest acceptable rate, iterations/s; 0 = none
	Unacceptable float64 `json:"unacceptable"` // lowest unacceptable rate; 0 = none found
	// AtLeast says Capacity is only a lower bound: the search stopped at
	// abort.max_rate, at a generator limit, or at its step budget.
	AtLeast   bool      `json:"at_least,omitempty"`
	LimitedBy LimitedBy `json:"limited_by,omitempty"` // "" when the search found an unacceptable rate
	LoadS     float64   `json:"load_s"`               // seconds under load, cool-downs included
	Sent      int64     `json:"requests_sent"`        // requests completed, cool-downs included
	Notes     []string  `json:"notes,omitempty"`
}

// Baseline is the first step of the search, the reference of the
// relative rule; the zero Step when none ran.
func (e Exploration) Baseline() Step {
	if len(e.Steps) == 0 {
		return Step{}
	}
	return e.Steps[0]
}

// At returns the last step run at rate, if any.
func (e Exploration) At(rate float64) (Step, bool) {
	for i := len(e.Steps) - 1; i >= 0; i-- {
		if e.Steps[i].Rate == rate {
			return e.Steps[i], true
		}
	}
	return Step{}, false
}

// Find searches the single-instance capacity: a baseline step, rates
// growing by doubling until one is unacceptable, then a binary search of
// the bracket until it is within the precision. It never offers more than
// abort.max_rate. A cancelled search returns what it found with ctx's error.
func Find(ctx context.Context, p *plan.Plan, prober Prober, opts Options) (Exploration, error) {
	o := opts.withDefaults(p)
	file := ""
	if p != nil {
		file = p.File
	}
	if err := o.validate(file); err != nil {
		return Exploration{}, err
	}
	var objs []plan.Objective
	if p != nil {
		objs = objectivesOf(p)
	}
	s := &searcher{o: o, prober: prober, judge: newJudge(objs, o.MaxVUs)}
	s.ex.URL = o.URL
	err := s.find(ctx)
	return s.ex, err
}

// searcher holds the state of one Find.
type searcher struct {
	o      Options
	prober Prober
	judge  judge
	ex     Exploration
	lo, hi float64 // bracket: highest acceptable, lowest unacceptable (0 = none)
}

func (s *searcher) find(ctx context.Context) error {
	defer func() { s.ex.Capacity, s.ex.Unacceptable = s.lo, s.hi }()
	if s.o.MaxRate > 0 && s.o.BaselineRate > s.o.MaxRate {
		s.o.BaselineRate = s.o.MaxRate
	}
	base, err := s.step(ctx, PhaseBaseline, s.o.BaselineRate)
	if err != nil {
		return err
	}
	switch base.Verdict {
	case GeneratorLimited:
		s.limit("generator", "the baseline step was generator-limited; no capacity measured")
		return nil
	case Unacceptable:
		s.hi = base.Rate
		s.ex.Notes = append(s.ex.Notes, fmt.Sprintf("the baseline rate %.4g/s is already unacceptable; searching below it", base.Rate))
		if err := s.cooldown(ctx); err != nil {
			return err
		}
	default:
		s.lo = base.Rate
	}
	next := s.o.From
	if next <= s.lo {
		next = s.lo * s.o.Growth
	}
	for steps := 1; ; steps++ {
		if s.hi == 0 && s.o.MaxRate > 0 && s.lo >= s.o.MaxRate {
			s.limit("max_rate", fmt.Sprintf("acceptable at abort.max_rate %.4g/s: capacity ≥ max_rate", s.o.MaxRate))
			break
		}
		rate, done := s.nextRate(next)
		if done {
			break
		}
		if steps >= s.o.MaxSteps {
			s.limit("max_steps", fmt.Sprintf("stopped after %d steps with the bracket at [%.4g, %.4g]", steps, s.lo, s.hi))
			break
		}
		phase := PhaseSearch
		if s.hi == 0 {
			phase = PhaseExplore
		}
		st, err := s.step(ctx, phase, rate)
		if err != nil {
			return err
		}
		switch st.Verdict {
		case Acceptable:
			s.lo = rate
			next = rate * s.o.Growth
		case Unacceptable:
			s.hi = rate
			if err := s.cooldown(ctx); err != nil {
				return err
			}
		case GeneratorLimited:
			if s.hi > 0 {
				// The bracket holds an unacceptable point: it stands, only
				// not narrowed to the precision.
				s.ex.Notes = append(s.ex.Notes, fmt.Sprintf("step at %.4g/s was generator-limited (%s); the bracket [%.4g, %.4g] was not narrowed further", rate, first(st.Reasons), s.lo, s.hi))
				return nil
			}
			s.limit(LimitedByGenerator, fmt.Sprintf("step at %.4g/s was generator-limited (%s); capacity ≥ %.4g/s", rate, first(st.Reasons), s.lo))
		}
		if s.ex.LimitedBy != "" {
			break
		}
	}
	if s.lo == 0 {
		s.ex.Notes = append(s.ex.Notes, fmt.Sprintf("no acceptable rate found down to %.4g/s", s.hi))
	}
	return nil
}

// nextRate picks the rate of the next step: the next growth rate while
// nothing failed, then the middle of the bracket; done when the bracket is
// narrow enough or nothing below the lowest tried rate is worth trying.
func (s *searcher) nextRate(next float64) (rate float64, done bool) {
	lo, hi := s.lo, s.hi
	switch {
	case hi == 0:
		if s.o.MaxRate > 0 && next > s.o.MaxRate {
			next = s.o.MaxRate
		}
		return next, false
	case lo == 0:
		// Nothing acceptable yet: halve, down to 1/16 of the baseline.
		if hi <= s.o.BaselineRate/16 {
			return 0, true
		}
		return hi / 2, false
	case hi-lo <= s.o.Precision*lo:
		return 0, true
	case hi > 2*lo:
		return math.Sqrt(lo * hi), false
	default:
		return (lo + hi) / 2, false
	}
}

// limit ends the search with a lower bound and says why.
func (s *searcher) limit(by LimitedBy, note string) {
	s.ex.AtLeast, s.ex.LimitedBy = true, by
	s.ex.Notes = append(s.ex.Notes, note)
	s.ex.Capacity, s.ex.Unacceptable = s.lo, s.hi
}

// step runs and judges one step at rate, stopping it early once it is
// clearly unacceptable.
func (s *searcher) step(ctx context.Context, phase Phase, rate float64) (Step, error) {
	if s.o.Phase != "" {
		phase = s.o.Phase
	}
	idx := len(s.ex.Steps) + 1
	s.judge.low, s.judge.lowAchieved = 0, 0
	if st, ok := s.ex.At(s.lo); ok && s.lo > 0 && st.Verdict == Acceptable {
		s.judge.low, s.judge.lowAchieved = st.Throughput, st.Achieved
	}
	s.emit(Event{Phase: phase, Step: idx, Rate: rate, Low: s.lo, High: s.hi})
	bad, why := 0, ""
	behind, behindWhy := 0, "" // of the bad seconds in a row, those the generator was behind in
	d := s.o.StepDuration
	warmup := time.Duration(s.o.Warmup * float64(d))
	series := inFlightSeries{warmup: warmup}
	watch := func(t Tick) bool {
		series.add(t)
		if b, w := s.judge.clearlyBad(t); b {
			bad, why = bad+1, w
			if gb, gw := s.judge.tickBehind(t); gb {
				behind, behindWhy = behind+1, gw
			}
		} else {
			bad, behind = 0, 0
		}
		return bad < abandonAfter
	}
	sum, err := s.prober.Probe(ctx, Probe{
		URL:    s.o.URL,
		Holds:  []Hold{{Rate: rate, Duration: d}},
		Warmup: warmup,
		Watch:  watch,
	})
	s.account(sum)
	if err != nil {
		return Step{}, fmt.Errorf("step %d at %.4g/s: %w", idx, rate, err)
	}
	v, reasons := s.judge.verdict(sum)
	if sum.Stopped {
		v, reasons = s.judge.stopped(sum, v, reasons, stopInfo{
			why: why, generatorBehind: bad > 0 && behind == bad, behindWhy: behindWhy,
		})
	}
	if sum.Aborted != "" {
		abort := "stopped by the plan's abort rules: " + sum.Aborted
		switch v {
		case GeneratorLimited: // the step still says nothing about the SUT
			reasons = append(reasons, abort)
		case Unacceptable:
			reasons = append([]string{abort}, reasons...)
		default:
			v, reasons = Unacceptable, []string{abort}
		}
	}
	st := newStep(phase, s.o.URL, rate, sum, v, reasons)
	st.Index = idx
	steady := series.judge(st)
	if sum.Aborted != "" {
		steady.Steady, steady.Why = false, "stopped by the plan's abort rules"
	}
	st.Steadiness = &steady
	s.ex.Steps = append(s.ex.Steps, st)
	if v == Acceptable && s.judge.baseline == nil {
		s.judge.baseline = referenceOf(st)
	}
	lo, hi := s.lo, s.hi
	switch v {
	case Acceptable:
		lo = math.Max(lo, rate)
	case Unacceptable:
		if hi == 0 || rate < hi {
			hi = rate
		}
	}
	s.emit(Event{Phase: phase, Step: idx, Rate: rate, Low: lo, High: hi, Verdict: v, Reasons: reasons, Result: &st})
	return st, nil
}

// cooldown probes lightly until the SUT is back at its baseline latency,
// for at most cooldownFactor × the configured cool-down.
func (s *searcher) cooldown(ctx context.Context) error {
	if s.o.Cooldown <= 0 {
		return nil
	}
	limit := time.Duration(cooldownFactor * float64(s.o.Cooldown))
	rate := s.o.BaselineRate
	if s.lo > 0 {
		rate = math.Min(rate, s.lo)
	} else {
		rate = math.Min(rate, s.hi/4)
	}
	s.emit(Event{Phase: PhaseCooldown, Step: len(s.ex.Steps), Rate: rate, Low: s.lo, High: s.hi})
	back := func(t Tick) bool { ok, _ := s.judge.withinSLOs(t); return ok } // no baseline yet: back within the objectives
	if b := s.judge.baseline; b != nil {
		p99 := math.Max(cooldownP99*b.P99, b.P99+relativeP99Floor)
		errs := b.ErrorRate + relativeErrFloor
		back = func(t Tick) bool { return t.Requests > 0 && t.Latency.P99 <= p99 && t.ErrorRate() <= errs }
	}
	good := 0
	sum, err := s.prober.Probe(ctx, Probe{
		URL:   s.o.URL,
		Holds: []Hold{{Rate: rate, Duration: limit}},
		Watch: func(t Tick) bool {
			if back(t) {
				good++
			} else {
				good = 0
			}
			return good < cooldownGood
		},
	})
	s.account(sum)
	if err != nil {
		return fmt.Errorf("cool-down after step %d: %w", len(s.ex.Steps), err)
	}
	if good < cooldownGood {
		s.ex.Notes = append(s.ex.Notes, fmt.Sprintf("after step %d the SUT was not back at baseline latency within %s", len(s.ex.Steps), limit))
	}
	return nil
}

// Cool-down rules.
const (
	cooldownFactor = 3   // a cool-down lasts at most this × capacity.cooldown
	cooldownP99    = 1.5 // back at baseline: p99 within this × baseline p99
	cooldownGood   = 2   // consecutive seconds back at baseline that end it
)

func (s *searcher) account(sum Summary) {
	s.ex.LoadS += sum.Elapsed.Seconds()
	s.ex.Sent += sum.Sent
}

func (s *searcher) emit(e Event) {
	if s.o.Progress != nil {
		s.o.Progress(e)
	}
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
