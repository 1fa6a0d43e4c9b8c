package capacity

import (
	"fmt"
	"math"
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
	// GeneratorLimited: the generator could not offer the rate, so the step
	// says nothing about the system under test.
	GeneratorLimited Verdict = "generator-limited"
)

// Rules of acceptability that are not in the plan.
const (
	minAchieved      = 0.95  // achieved/offered iterations below this: generator behind
	maxDropped       = 0.01  // dropped iterations above this: generator behind
	vusFullAt        = 0.9   // mean in-flight ≥ this × max_vus: the SUT holds the VUs
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
	objectives []objective // those judged per step (no throughput)
	baseline   *reference  // relative rule reference; nil until measured
	maxVUs     int         // load.max_vus; 0 when unknown
}

// newJudge keeps the objectives a step can be judged by.
func newJudge(objs []objective, maxVUs int) judge {
	j := judge{maxVUs: maxVUs}
	for _, o := range objs {
		if o.kind != throughputObjective {
			j.objectives = append(j.objectives, o)
		}
	}
	return j
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

// verdict judges the measured part of one step.
func (j judge) verdict(s Summary) (Verdict, []string) {
	sutOK, reasons := j.sut(s)
	behind, why := j.generatorBehind(s)
	switch {
	case !behind:
		if sutOK {
			return Acceptable, nil
		}
		return Unacceptable, reasons
	case j.vusHeld(s) && !sutOK:
		return Unacceptable, append(reasons, fmt.Sprintf("the SUT held the generator's virtual users (%.0f of max_vus %d in flight): %s", s.InFlight, j.maxVUs, why))
	case j.vusHeld(s):
		return GeneratorLimited, []string{fmt.Sprintf("load.max_vus %d reached while the SLOs held (%s): raise load.max_vus", j.maxVUs, why)}
	default:
		return GeneratorLimited, []string{"generator could not keep up: " + why}
	}
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
	for _, o := range j.objectives {
		if v := o.ofSummary(s); !o.holds(v) {
			reasons = append(reasons, fmt.Sprintf("%s: measured %s, limit %s %s", o.name, o.format(v), o.op, o.format(o.limit)))
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
	achieved := s.Offered <= 0 || s.Achieved >= minAchieved*s.Offered
	dropped := s.DroppedRate()
	if achieved && dropped <= maxDropped {
		return false, ""
	}
	return true, fmt.Sprintf("achieved %.1f/s of %.1f/s offered, %.1f%% of iterations dropped", s.Achieved, s.Offered, dropped*100)
}

// vusHeld reports whether the SUT was holding (nearly) all virtual users,
// which makes a generator shortfall the SUT's doing (Little's Law).
func (j judge) vusHeld(s Summary) bool {
	return j.maxVUs > 0 && s.InFlight >= vusFullAt*float64(j.maxVUs)
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
	for _, o := range j.objectives {
		if o.op != "<" && o.op != "<=" {
			continue
		}
		v := o.ofTick(t)
		if o.kind == errorObjective && v > math.Max(abandonFactor*o.limit, o.limit+0.05) ||
			o.kind == latencyObjective && v > abandonFactor*o.limit {
			return true, fmt.Sprintf("%s: %s in one second", o.name, o.format(v))
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

// latencyOK reports whether one second's latency is back within the
// objectives, or without latency objectives within twice the baseline p99.
func (j judge) latencyOK(t Tick) bool {
	if t.Requests == 0 {
		return false
	}
	if !hasLatency(j.objectives) {
		if j.baseline == nil {
			return true
		}
		return t.Latency.P99 <= relativeLimit(j.baseline.P99, relativeP99Floor)
	}
	for _, o := range j.objectives {
		if o.kind == latencyObjective && !o.holds(o.ofTick(t)) {
			return false
		}
	}
	return true
}
