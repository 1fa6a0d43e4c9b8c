package correlate

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/capacity"
)

// summarise fills a reading's window means, peak, lead and correlation.
// Samples come every step; an irate sample at t holds the change between
// the two scrapes before t, so a move seen at t happened in (t − 2 steps, t].
func summarise(r *Reading, w Window, slots []slot, step time.Duration) {
	cv := coverFor(r.Query, step)
	checkPossible(r, step)
	deg := degradedSamples(r.Samples, w, slots, cv)
	if len(deg) == 0 {
		r.Available = false
		r.Reason = fmt.Sprintf("no samples of %s in the degraded window", r.Query)
		return
	}
	r.Degraded, r.Peak = meanOf(deg), peakOf(deg)
	var base []Sample
	if w.HasBaseline() {
		base = loadedSamples(r.Samples, w.BaselineStart, w.BaselineEnd, slots, cv)
		if len(base) > 0 {
			r.Baseline, r.HasBaseline = meanOf(base), true
		}
	}
	if r.HasBaseline {
		// Only loaded samples: a study's cooldowns between steps would
		// break a run of moved samples or fake one.
		moving := r.Samples // a run: load all along
		if len(slots) > 0 && slots[0].end.Sub(slots[0].start) > time.Second {
			moving = append(base, deg...)
		}
		// Three samples in a row, or all a short window has.
		if at, ok := moveOnset(moving, r.Baseline, r.Degraded, w.BaselineStart, w.End.Add(cv.lag), max(1, min(3, len(deg)))); ok {
			lead, moved := leadOf(at, cv.lag, kneeOf(w, slots))
			r.LeadSeconds, r.MovedAt = &lead, &moved
		}
	}
	if c, ok := correlation(r.Samples, slots, cv); ok {
		r.Pearson = &c
	}
	r.Steps = stepLevels(r.Samples, w, slots, cv)
	if f, ok := fitSteps(r.Steps); ok {
		r.Fit = &f
	}
}

// degradedSamples are the samples of the degraded load: a study's
// degraded steps (the measured part of each, nothing between them), or
// a run's loaded seconds from the onset to the end.
func degradedSamples(ss []Sample, w Window, slots []slot, cv cover) []Sample {
	if len(w.Parts) == 0 {
		return loadedSamples(ss, w.Onset, w.End, slots, cv)
	}
	var out []Sample
	for _, p := range w.Parts {
		x, y := cv.of(p.Start, p.End)
		for _, v := range ss {
			if !v.At.Before(x) && !v.At.After(y) && (len(out) == 0 || v.At.After(out[len(out)-1].At)) {
				out = append(out, v)
			}
		}
	}
	return out
}

// stepLevels is the signal's mean over each step's measured part, with
// the step's load; nil for a run (its slots are seconds).
func stepLevels(ss []Sample, w Window, slots []slot, cv cover) []StepLevel {
	if len(slots) == 0 || slots[0].end.Sub(slots[0].start) <= 2*time.Second {
		return nil
	}
	var out []StepLevel
	for _, sl := range slots {
		a, b := cv.of(sl.start, sl.end)
		v, ok := meanBetween(ss, a, b)
		if !ok {
			continue
		}
		acc := sl.verdict == capacity.Acceptable
		if sl.verdict == "" {
			acc = sl.rate > 0 && sl.p99 <= w.ThresholdMs
		}
		out = append(out, StepLevel{Phase: sl.phase, Index: sl.index, OfferedRPS: sl.offered, ThroughputRPS: sl.rate, Level: v, Acceptable: acc && !sl.cut})
	}
	return out
}

// fitSteps fits the levels of the single-instance steps that measured
// throughput against it (verification runs other instances as well).
func fitSteps(levels []StepLevel) (Fit, bool) {
	var xs, ys []float64
	for _, l := range levels {
		if l.ThroughputRPS > 0 && l.Phase != capacity.PhaseVerify {
			xs = append(xs, l.ThroughputRPS)
			ys = append(ys, l.Level)
		}
	}
	if len(xs) < 3 {
		return Fit{}, false
	}
	slope, icept, r2, ok := leastSquares(xs, ys)
	if !ok {
		return Fit{}, false
	}
	return Fit{PerRequest: slope, Intercept: icept, R2: r2, Steps: len(xs)}, true
}

// leastSquares fits y = a + b·x; r2 is the share of y's variance the line
// explains (1 when y does not vary and the line is flat).
func leastSquares(xs, ys []float64) (b, a, r2 float64, ok bool) {
	mx, my, sxy, sxx, syy := moments(xs, ys)
	if sxx == 0 {
		return 0, 0, 0, false
	}
	b = sxy / sxx
	a = my - b*mx
	r2 = 1.0
	if syy > 0 {
		r2 = sxy * sxy / (sxx * syy)
	}
	return b, a, r2, true
}

// loadedSamples are the samples whose data lies in the parts of [a, b]
// that were under load: the slots inside it, merged where they touch (a
// run's seconds), so the gaps between a study's steps (cooldowns, the
// next step's warm-up) stay out. Without slots inside, all of [a, b].
func loadedSamples(ss []Sample, a, b time.Time, slots []slot, cv cover) []Sample {
	var spans [][2]time.Time
	for _, sl := range slots {
		if sl.start.Before(a) || sl.end.After(b.Add(time.Millisecond)) {
			continue
		}
		if n := len(spans); n > 0 && !sl.start.After(spans[n-1][1].Add(time.Second)) {
			spans[n-1][1] = maxTime(spans[n-1][1], sl.end)
			continue
		}
		spans = append(spans, [2]time.Time{sl.start, sl.end})
	}
	if len(spans) == 0 {
		spans = [][2]time.Time{{a, b}}
	}
	var out []Sample
	for _, sp := range spans {
		x, y := cv.of(sp[0], sp[1])
		for _, v := range ss {
			if !v.At.Before(x) && !v.At.After(y) && (len(out) == 0 || v.At.After(out[len(out)-1].At)) {
				out = append(out, v)
			}
		}
	}
	return out
}

// medianOf is the median of the samples, 0 for none.
func medianOf(ss []Sample) float64 {
	if len(ss) == 0 {
		return 0
	}
	vs := make([]float64, len(ss))
	for i, v := range ss {
		vs[i] = v.Value
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

// meanOrZero is the mean of the samples, 0 for none.
func meanOrZero(ss []Sample) float64 {
	if len(ss) == 0 {
		return 0
	}
	return meanOf(ss)
}

func meanOf(ss []Sample) float64 {
	sum := 0.0
	for _, v := range ss {
		sum += v.Value
	}
	return sum / float64(len(ss))
}

func peakOf(ss []Sample) float64 {
	peak := 0.0
	for _, v := range ss {
		peak = math.Max(peak, v.Value)
	}
	return peak
}

// kneeSpan is when latency broke, as finely as the latency data tells:
// latency was still acceptable at from and degraded by to.
type kneeSpan struct{ from, to time.Time }

// kneeOf is the latency knee's span: the first degraded second of a run,
// or for a study the gap from the end of the last acceptable step to the
// start of the degraded step's measured part (its warm-up is not measured).
func kneeOf(w Window, slots []slot) kneeSpan {
	k := kneeSpan{from: w.Onset, to: w.Onset}
	for i, s := range slots {
		if !s.start.Equal(w.Onset) {
			continue
		}
		if s.end.Sub(s.start) <= time.Second {
			k.to = s.end
		} else if i > 0 && slots[i-1].end.Before(w.Onset) {
			k.from = slots[i-1].end
		}
		break
	}
	return k
}

// leadOf is how long before the knee a move first seen in the sample at
// at happened, and when: the sample holds data from (at − lag, at], so the
// move is placed in the middle of that span. The lead is 0 when that span
// meets the knee's, positive when it ended before the knee began, negative
// when it began after the knee ended. No correction is added: what the
// samples do not resolve reads as 0.
func leadOf(at time.Time, lag time.Duration, k kneeSpan) (float64, time.Time) {
	from, moved := at.Add(-lag), at.Add(-lag/2)
	switch {
	case at.Before(k.from):
		return k.from.Sub(moved).Seconds(), moved
	case from.After(k.to):
		return -moved.Sub(k.to).Seconds(), moved
	}
	return 0, moved
}

// cover maps a span of wall-clock time to the range query's sample times
// whose data lies inside it. A range query's sample at t holds the last
// scrape at or before t (a gauge: one scrape in (t − step, t]) or, for
// irate, the increase between the last two (in (t − 2 steps, t]); so the
// samples of [a, b] are those at [a + lag, b]. A span too short for that
// takes the samples that overlap it, [a, b + lag].
type cover struct{ lag time.Duration }

func coverFor(query string, step time.Duration) cover {
	if strings.Contains(query, "rate(") || strings.Contains(query, "increase(") {
		return cover{lag: 2 * step}
	}
	return cover{lag: step}
}

func (c cover) of(a, b time.Time) (time.Time, time.Time) {
	if a.Add(c.lag).After(b) {
		return a, b.Add(c.lag)
	}
	return a.Add(c.lag), b
}

// meanBetween is the mean of the samples in [a, b].
func meanBetween(s []Sample, a, b time.Time) (float64, bool) {
	var sum float64
	n := 0
	for _, v := range s {
		if v.At.Before(a) || v.At.After(b) {
			continue
		}
		sum += v.Value
		n++
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// moveOnset is when the signal first crossed halfway from its baseline to
// its degraded level and stayed there for need samples.
func moveOnset(s []Sample, base, deg float64, from, to time.Time, need int) (time.Time, bool) {
	delta := deg - base
	if math.Abs(delta) < 0.1*math.Max(math.Abs(base), 1e-9) {
		return time.Time{}, false
	}
	mid := base + delta/2
	run, first := 0, time.Time{}
	for _, v := range s {
		if v.At.Before(from) || v.At.After(to) {
			continue
		}
		if (delta > 0 && v.Value > mid) || (delta < 0 && v.Value < mid) {
			if run == 0 {
				first = v.At
			}
			if run++; run == need {
				return first, true
			}
			continue
		}
		run = 0
	}
	return time.Time{}, false
}

// correlation is Pearson's r between the signal and p99: across steps
// (the signal's mean within each step), or across seconds for a run.
func correlation(s []Sample, slots []slot, cv cover) (float64, bool) {
	var xs, ys []float64
	for _, sl := range slots {
		if sl.rate <= 0 {
			continue
		}
		a, b := cv.of(sl.start, sl.end)
		v, ok := meanBetween(s, a, b)
		if !ok {
			continue
		}
		xs = append(xs, v)
		ys = append(ys, sl.p99)
	}
	minPairs := 10
	if len(slots) > 0 && slots[0].end.Sub(slots[0].start) > 2*time.Second {
		minPairs = 3 // steps
	}
	if len(xs) < minPairs {
		return 0, false
	}
	return pearson(xs, ys)
}

// moments are the means of xs and ys and their centred sums of products
// and squares, which the line fit and the correlation share.
func moments(xs, ys []float64) (mx, my, sxy, sxx, syy float64) {
	n := float64(len(xs))
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return mx, my, sxy, sxx, syy
}

// pearson is the sample correlation coefficient; false when either side
// does not vary.
func pearson(xs, ys []float64) (float64, bool) {
	_, _, sxy, sxx, syy := moments(xs, ys)
	if sxx == 0 || syy == 0 {
		return 0, false
	}
	return sxy / math.Sqrt(sxx*syy), true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
