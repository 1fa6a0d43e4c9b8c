package generator

import (
	"fmt"
	"math"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// segment is one linear piece of a load profile: the target moves from r0 to
// r1 between offset t0 and t0+dur (seconds from the start of the run).
type segment struct {
	t0, dur float64
	r0, r1  float64
}

// rateAt is the target inside the segment at offset t (seconds from start).
func (s segment) rateAt(t float64) float64 {
	if s.dur == 0 {
		return s.r1
	}
	return s.r0 + (s.r1-s.r0)*(t-s.t0)/s.dur
}

// area is the integral of the target over the whole segment.
func (s segment) area() float64 { return (s.r0 + s.r1) / 2 * s.dur }

// profile is a piecewise linear load profile: iterations per second in the
// open model, virtual users in the closed model.
type profile struct {
	segs  []segment
	total float64 // seconds
}

// newProfile turns the stages of l into linear segments. A positive maxRate
// caps the target (splitting segments that cross it); capped reports whether
// the cap changed anything.
func newProfile(l plan.Load, maxRate float64) (p profile, capped bool) {
	prev := l.Start
	t := 0.0
	for _, st := range l.Stages {
		d := st.Duration.Seconds()
		seg := segment{t0: t, dur: d, r0: prev, r1: st.Target}
		for _, s := range capSegment(seg, maxRate) {
			if s.dur > 0 {
				p.segs = append(p.segs, s)
			}
		}
		if maxRate > 0 && (prev > maxRate || st.Target > maxRate) {
			capped = true
		}
		prev = st.Target
		t += d
	}
	p.total = t
	return p, capped
}

// capSegment limits a segment to maxRate (when positive), splitting it where
// the ramp crosses the cap.
func capSegment(s segment, maxRate float64) []segment {
	if maxRate <= 0 || (s.r0 <= maxRate && s.r1 <= maxRate) {
		return []segment{s}
	}
	if s.r0 >= maxRate && s.r1 >= maxRate {
		return []segment{{t0: s.t0, dur: s.dur, r0: maxRate, r1: maxRate}}
	}
	// The ramp crosses the cap once, at tc.
	tc := s.t0 + s.dur*(maxRate-s.r0)/(s.r1-s.r0)
	end := s.t0 + s.dur
	if s.r0 > maxRate { // falling: capped first, then below the cap
		return []segment{
			{t0: s.t0, dur: tc - s.t0, r0: maxRate, r1: maxRate},
			{t0: tc, dur: end - tc, r0: maxRate, r1: s.r1},
		}
	}
	return []segment{ // rising: below the cap first, then capped
		{t0: s.t0, dur: tc - s.t0, r0: s.r0, r1: maxRate},
		{t0: tc, dur: end - tc, r0: maxRate, r1: maxRate},
	}
}

// at is the target at offset t seconds.
func (p profile) at(t float64) float64 {
	for _, s := range p.segs {
		if t < s.t0+s.dur {
			return s.rateAt(t)
		}
	}
	if n := len(p.segs); n > 0 {
		return p.segs[n-1].r1
	}
	return 0
}

// integral is the area under the profile between offsets a and b seconds.
func (p profile) integral(a, b float64) float64 {
	sum := 0.0
	for _, s := range p.segs {
		lo, hi := math.Max(a, s.t0), math.Min(b, s.t0+s.dur)
		if hi <= lo {
			continue
		}
		sum += (s.rateAt(lo) + s.rateAt(hi)) / 2 * (hi - lo)
	}
	return sum
}

// mean is the mean target over [a, b), 0 for an empty interval.
func (p profile) mean(a, b float64) float64 {
	if b <= a {
		return 0
	}
	return p.integral(a, b) / (b - a)
}

// peak is the highest target anywhere in the profile.
func (p profile) peak() float64 {
	m := 0.0
	for _, s := range p.segs {
		m = math.Max(m, math.Max(s.r0, s.r1))
	}
	return m
}

// schedule yields the due offsets of the open model's iterations: iteration k
// is due when the integral of the rate from the start reaches k. It walks the
// segments once, so the cost per iteration is constant. A split schedule
// yields only iterations Index, Index+Count, … (one agent's share).
type schedule struct {
	segs []segment
	i    int     // current segment
	base float64 // integral of the segments before i
	k    float64 // next iteration number
	step float64 // 1, or the split's count
}

func newSchedule(p profile, sp Split) *schedule {
	return &schedule{segs: p.segs, k: float64(sp.Index), step: float64(sp.of())}
}

// next returns the due offset of the next iteration, or ok=false when the
// profile has no more iterations.
func (s *schedule) next() (due time.Duration, ok bool) {
	for s.i < len(s.segs) {
		seg := s.segs[s.i]
		need := s.k - s.base // iterations into this segment
		if need < seg.area() {
			tau := solveRamp(seg.r0, (seg.r1-seg.r0)/seg.dur, need)
			if tau < seg.dur {
				s.k += s.step
				return time.Duration((seg.t0 + tau) * float64(time.Second)), true
			}
		}
		s.base += seg.area()
		s.i++
	}
	return 0, false
}

// skipTo passes over every iteration due at or before offset at, returning
// how many it passed; the open model drops them in one go when no user is
// free, instead of spinning through each.
func (s *schedule) skipTo(at time.Duration) int64 {
	var done, total float64 // integral up to at, and of the whole profile
	t := at.Seconds()
	for _, seg := range s.segs {
		total += seg.area()
		if t <= seg.t0 {
			continue
		}
		end := math.Min(t, seg.t0+seg.dur)
		done += (seg.r0 + seg.rateAt(end)) / 2 * (end - seg.t0)
	}
	upto := math.Min(math.Floor(done+1e-9)+1, math.Ceil(total-1e-9))
	if upto <= s.k {
		return 0
	}
	n := math.Ceil((upto - s.k) / s.step) // own iterations below upto
	s.k += n * s.step
	return int64(n)
}

// solveRamp returns τ ≥ 0 with a·τ + b·τ²/2 = n, the time a rate starting at a
// and changing by b per second takes to accumulate n iterations. It uses the
// cancellation-free form 2n / (a + √(a² + 2bn)).
func solveRamp(a, b, n float64) float64 {
	if n <= 0 {
		return 0
	}
	disc := a*a + 2*b*n
	if disc < 0 {
		return math.Inf(1)
	}
	den := a + math.Sqrt(disc)
	if den <= 0 {
		return math.Inf(1)
	}
	return 2 * n / den
}

// validateLoad checks a load profile for the fields the engine relies on.
func validateLoad(l plan.Load) *plan.Error {
	bad := func(field, format string, args ...any) *plan.Error {
		return &plan.Error{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if l.Model != "open" && l.Model != "closed" {
		return bad("load.model", "%q is not open or closed", l.Model)
	}
	if len(l.Stages) == 0 {
		return bad("load.stages", "at least one stage is needed")
	}
	if l.Start < 0 || math.IsNaN(l.Start) || math.IsInf(l.Start, 0) {
		return bad("load.start", "%v is not a target ≥ 0", l.Start)
	}
	if l.MaxVUs < 0 {
		return bad("load.max_vus", "%d is negative", l.MaxVUs)
	}
	for i, st := range l.Stages {
		if st.Duration <= 0 {
			return bad(fmt.Sprintf("load.stages[%d].duration", i), "%v is not positive", st.Duration)
		}
		if st.Target < 0 || math.IsNaN(st.Target) || math.IsInf(st.Target, 0) {
			return bad(fmt.Sprintf("load.stages[%d].target", i), "%v is not a target ≥ 0", st.Target)
		}
	}
	return nil
}
