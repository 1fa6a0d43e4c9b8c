package capacity

import (
	"fmt"
	"math"
	"strings"

	"github.com/headroom-sre/headroom/plan"
)

// Verdict is the outcome of one step.
type Verdict string

// The verdicts a step can get.
const (
	// Acceptable: every objective held and the generator kept up.
	Acceptable Verdict = "acceptable"
	// Unacceptable: the system under test broke an objective (or, without
	// objectives, its p99 or error rate doubled against the baseline).
	Unacceptable Verdict = "unacceptable"
	// GeneratorLimited: the generator could not offer the rate while the
	// SLOs held (or while the step completed no more requests/s than the
	// last acceptable step), so the step says nothing about the system
	// under test.
	GeneratorLimited Verdict = "generator-limited"
)

// Rules of acceptability that are not in the plan.
const (
	minAchieved      = 0.95  // achieved/offered iterations below this: generator behind
	maxDropped       = 0.01  // dropped iterations above this: generator behind
	vusFullAt        = 0.9   // mean busy virtual users ≥ this × max_vus: the SUT holds the VUs
	relativeFactor   = 2.0   // without SLOs: p99 or error rate doubles
	relativeP99Floor = 2.0   // ms the p99 must also rise by, so jitter is not "doubling"
	relativeErrFloor = 0.001 // error-rate rise that counts, so one error is not "doubling"
	maxErrorRate     = 0.5   // errors above this are unacceptable in any case
	abandonFactor    = 2.0   // a second this far past a limit is clearly unacceptable
	abandonAfter     = 2     // consecutive clearly unacceptable seconds that end a step
)

// judge decides the verdict of steps against a plan's objectives, or
// without objectives against the baseline step.
type judge struct {
	objectives []plan.Objective // those judged per step: perStep (no throughput)
	baseline   *reference       // relative rule reference; nil until measured
	maxVUs     int              // load.max_vus; 0 when unknown
	// low is the throughput (requests/s) of the bracket's low end, the
	// last acceptable step; 0 before any. A step that broke its SLOs
	// above it is unacceptable whatever the generator dropped.
	low float64
	// lowAchieved is the iterations/s the last acceptable step started.
	// A step's first seconds complete fewer requests than its steady
	// state (journeys with think time have not reached their later
	// requests), so a step stopped early is above the low end when either
	// its requests/s or its iterations/s are.
	lowAchieved float64
}

// aboveLowEnd reports whether a step got more through than the last
// acceptable step: more requests/s, or more iterations/s started.
func (j judge) aboveLowEnd(s Summary) bool {
	return s.Throughput > j.low || s.Achieved > j.lowAchieved
}

// newJudge keeps the objectives a step can be judged by (perStep).
func newJudge(objs []plan.Objective, maxVUs int) judge {
	return judge{objectives: perStep(objs), maxVUs: maxVUs}
}

// reference is what the relative rule compares a step with.
type reference struct {
	P99       float64 // ms
	ErrorRate float64
}

// referenceOf keeps what the relative rule needs of a baseline step.
func referenceOf(st Step) *reference { return &reference{P99: st.Latency.P99, ErrorRate: st.ErrorRate} }

// relative reports whether the judge falls back to the baseline rule.
func (j judge) relative() bool { return len(j.objectives) == 0 }

// verdict judges the measured part of one step. A step that broke its
// SLOs is unacceptable when the generator kept up, when the SUT held the
// generator's virtual users, or when it completed more requests/s than
// the last acceptable step (the SLOs broke at a throughput never
// acceptable: whatever the generator dropped, the SUT did not hold this
// load). Only a step whose SLOs held, or that completed no more than the
// last acceptable step, is blamed on the generator.
func (j judge) verdict(s Summary) (Verdict, []string) {
	sutOK, reasons := j.sut(s)
	behind, why := j.generatorBehind(s)
	switch {
	case !behind:
		if sutOK {
			return Acceptable, nil
		}
		return Unacceptable, reasons
	case !sutOK && j.vusHeld(s):
		return Unacceptable, append(reasons, fmt.Sprintf("the SUT held the generator's virtual users (%.0f of max_vus %d busy): %s", s.Busy, j.maxVUs, why))
	case !sutOK && j.aboveLowEnd(s):
		return Unacceptable, append(reasons, j.aboveLow(s, why))
	case !sutOK:
		return GeneratorLimited, append([]string{fmt.Sprintf("generator could not keep up: %s; the SLOs broke at %.1f req/s and %.1f it/s, no more than the last acceptable step's %.1f req/s and %.1f it/s", why, s.Throughput, s.Achieved, j.low, j.lowAchieved)}, reasons...)
	case j.vusHeld(s):
		return GeneratorLimited, []string{fmt.Sprintf("load.max_vus %d reached while the SLOs held (%.0f busy; %s): raise load.max_vus", j.maxVUs, s.Busy, why)}
	default:
		return GeneratorLimited, []string{"generator could not keep up: " + why}
	}
}

// aboveLow says why a step the generator fell behind on still counts
// against the SUT.
func (j judge) aboveLow(s Summary, why string) string {
	if j.low <= 0 && j.lowAchieved <= 0 {
		return fmt.Sprintf("the SLOs broke at %.1f req/s with no acceptable step below; the generator fell behind too (%s)", s.Throughput, why)
	}
	return fmt.Sprintf("the SLOs broke at %.1f req/s and %.1f it/s, above the last acceptable step's %.1f req/s and %.1f it/s; the generator fell behind too (%s)",
		s.Throughput, s.Achieved, j.low, j.lowAchieved, why)
}

// sut applies the objectives, or the relative rule, to a step.
func (j judge) sut(s Summary) (bool, []string) {
	var reasons []string
	if s.Requests == 0 {
		return false, []string{"no request completed"}
	}
	if er := s.ErrorRate(); er > maxErrorRate {
		reasons = append(reasons, fmt.Sprintf("error rate %.1f%% above %.0f%%", er*100, maxErrorRate*100))
	}
	for _, c := range plan.CheckAll(j.objectives, measurementOf(s)) {
		if !c.Pass {
			reasons = append(reasons, missed(c.Objective, c.Value))
		}
	}
	if j.relative() && j.baseline != nil {
		b := *j.baseline
		if p99, limit := s.Latency.P99, relativeLimit(b.P99, relativeP99Floor); p99 > limit {
			reasons = append(reasons, fmt.Sprintf("p99 %.1fms more than doubled against the baseline's %.1fms", p99, b.P99))
		}
		if er, limit := s.ErrorRate(), relativeLimit(b.ErrorRate, relativeErrFloor); er > limit {
			reasons = append(reasons, fmt.Sprintf("error rate %.2f%% more than doubled against the baseline's %.2f%%", er*100, b.ErrorRate*100))
		}
	}
	return len(reasons) == 0, reasons
}

// relativeLimit is the value that counts as "doubled" against base.
func relativeLimit(base, floor float64) float64 {
	return math.Max(relativeFactor*base, base+floor)
}

// generatorBehind reports whether the generator failed to offer the rate.
func (j judge) generatorBehind(s Summary) (bool, string) {
	// One iteration short over the measured part is how whole iterations
	// fall into a span, not a generator behind: 19 of 20 in one second.
	achieved := s.Offered <= 0 || s.Achieved >= minAchieved*s.Offered ||
		(s.Seconds > 0 && math.Round((s.Offered-s.Achieved)*s.Seconds) <= 1)
	dropped := s.DroppedRate()
	if achieved && dropped <= maxDropped {
		return false, ""
	}
	return true, fmt.Sprintf("achieved %.1f/s of %.1f/s offered, %.1f%% of iterations dropped", s.Achieved, s.Offered, dropped*100)
}

// vusHeld reports whether (nearly) all virtual users were busy, each
// inside an iteration (its requests and its think time): a shortfall is
// then the SUT's doing, its slow answers keeping the users (Little's Law).
func (j judge) vusHeld(s Summary) bool {
	return j.maxVUs > 0 && s.Busy >= vusFullAt*float64(j.maxVUs)
}

// clearlyBad reports whether one second is so far past the limits that
// its step cannot be acceptable, and why.
func (j judge) clearlyBad(t Tick) (bool, string) {
	if t.Requests == 0 {
		if t.Offered > 0 && t.InFlight > 0 {
			return true, "no request completed in a second"
		}
		return false, ""
	}
	if er := t.ErrorRate(); er > maxErrorRate {
		return true, fmt.Sprintf("error rate %.0f%% in one second", er*100)
	}
	m := tickMeasurement(t)
	for _, o := range j.objectives {
		if o.Op != "<" && o.Op != "<=" {
			continue
		}
		v := o.Value(m)
		if o.Kind == plan.ErrorRate && v > math.Max(abandonFactor*o.Limit, o.Limit+0.05) ||
			o.Kind == plan.Latency && v > abandonFactor*o.Limit {
			return true, fmt.Sprintf("%s: %s in one second", label(o), o.Format(v))
		}
	}
	if j.relative() && j.baseline != nil {
		b := *j.baseline
		if limit := relativeLimit(relativeLimit(b.P99, relativeP99Floor), relativeP99Floor); t.Latency.P99 > limit {
			return true, fmt.Sprintf("p99 %.1fms in one second, baseline %.1fms", t.Latency.P99, b.P99)
		}
		if er := t.ErrorRate(); er > math.Max(2*relativeLimit(b.ErrorRate, relativeErrFloor), 0.05) {
			return true, fmt.Sprintf("error rate %.1f%% in one second", er*100)
		}
	}
	return false, ""
}

// withinSLOs reports whether one second is back within every objective
// a second can show (latency and error rate; throughput objectives are
// left out, as a recovery rate is lower by design), and what the
// objectives leave out back within twice the baseline's p99 and error
// rate. A second with no request completed, or with more than half of
// them failed, is never back. When it is not, why says what missed.
func (j judge) withinSLOs(t Tick) (ok bool, why string) {
	if t.Requests == 0 {
		return false, "no request completed"
	}
	er := t.ErrorRate()
	if er > maxErrorRate {
		return false, fmt.Sprintf("error rate %.1f%%", er*100)
	}
	for _, c := range plan.CheckAll(j.objectives, tickMeasurement(t)) {
		if !c.Pass {
			return false, fmt.Sprintf("%s: %s", label(c.Objective), c.Objective.Format(c.Value))
		}
	}
	if b := j.baseline; b != nil {
		if !hasKind(j.objectives, plan.Latency) && t.Latency.P99 > relativeLimit(b.P99, relativeP99Floor) {
			return false, fmt.Sprintf("p99 %.1fms against the baseline's %.1fms", t.Latency.P99, b.P99)
		}
		if !hasKind(j.objectives, plan.ErrorRate) && er > relativeLimit(b.ErrorRate, relativeErrFloor) {
			return false, fmt.Sprintf("error rate %.2f%% against the baseline's %.2f%%", er*100, b.ErrorRate*100)
		}
	}
	return true, ""
}

// criterion says in words what withinSLOs calls back.
func (j judge) criterion() string {
	var parts []string
	for _, o := range j.objectives {
		parts = append(parts, label(o))
	}
	if b := j.baseline; b != nil {
		if !hasKind(j.objectives, plan.Latency) {
			parts = append(parts, fmt.Sprintf("p99 ≤ 2 × the baseline p99 (%.1fms)", relativeLimit(b.P99, relativeP99Floor)))
		}
		if !hasKind(j.objectives, plan.ErrorRate) {
			parts = append(parts, fmt.Sprintf("error rate ≤ 2 × the baseline's (%.2f%%)", relativeLimit(b.ErrorRate, relativeErrFloor)*100))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("requests completed with at most %.0f%% errors", maxErrorRate*100)
	}
	return "back within " + strings.Join(parts, " and ")
}

// stopInfo is what the seconds that stopped a step early showed.
type stopInfo struct {
	why             string // what was clearly unacceptable
	generatorBehind bool   // the generator was behind in every one of those seconds
	behindWhy       string // how far behind, in the last of them
}

// stopped decides the verdict of a step its Watch ended early, given the
// verdict v of its measured part (the warm-up's, when it stopped within
// the warm-up: the seconds that stopped it are evidence, never "nothing
// measured"). The seconds that stopped it were clearly unacceptable. The
// step is generator-limited only when the generator was behind in those
// seconds and the step completed no more requests/s than the last
// acceptable step (or measured nothing to compare), or when its measured
// part already says so.
func (j judge) stopped(s Summary, v Verdict, reasons []string, si stopInfo) (Verdict, []string) {
	stop := fmt.Sprintf("stopped early after %.0fs: %s", s.Elapsed.Seconds(), si.why)
	if s.WarmupOnly {
		stop += fmt.Sprintf(" (within the warm-up: judged on its %.0f s)", s.Seconds)
	}
	measured := s.Seconds > 0
	switch {
	case v == GeneratorLimited:
		return v, append(reasons, stop)
	case v == Unacceptable && measured:
		return v, append([]string{stop}, reasons...)
	case si.generatorBehind && (!measured || !j.aboveLowEnd(s)):
		return GeneratorLimited, []string{"generator could not keep up in the seconds that stopped the step: " + si.behindWhy, stop}
	case si.generatorBehind:
		return Unacceptable, []string{stop, j.aboveLow(s, si.behindWhy)}
	case !measured:
		return Unacceptable, []string{stop, "no second measured"}
	default:
		return Unacceptable, []string{stop}
	}
}

// tickBehind reports whether the generator failed to offer one second's
// rate when the SUT was not holding its virtual users, and how far.
func (j judge) tickBehind(t Tick) (bool, string) {
	if j.maxVUs > 0 && t.Busy >= vusFullAt*float64(j.maxVUs) {
		return false, ""
	}
	due := t.Achieved + float64(t.Dropped)
	dropped := 0.0
	if due > 0 {
		dropped = float64(t.Dropped) / due
	}
	// One second holds whole iterations: one short, or one dropped, is
	// rounding at a low rate, not a generator behind.
	if (t.Offered <= 0 || t.Achieved+1 >= minAchieved*t.Offered) && (dropped <= maxDropped || t.Dropped <= 1) {
		return false, ""
	}
	return true, fmt.Sprintf("achieved %.1f/s of %.1f/s offered, %.1f%% of iterations dropped", t.Achieved, t.Offered, dropped*100)
}
