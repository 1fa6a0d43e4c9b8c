package correlate

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/headroom-sre/headroom/capacity"
)

// Window is where a run or study degraded and the acceptable load it is
// compared with. Times are the generator's wall-clock times.
type Window struct {
	Found       bool      `json:"found"`        // false: latency never degraded; the other fields are zero
	Reason      string    `json:"reason"`       // why the onset counts as degradation
	ThresholdMs float64   `json:"threshold_ms"` // the p99 that counts as degraded
	Onset       time.Time `json:"onset"`        // the latency knee: first degraded second or step
	Start       time.Time `json:"start"`        // the degraded window: [onset − margin, end of the degraded load]
	End         time.Time `json:"end"`

	// Parts are a study's degraded steps, the measured part of each: the
	// degraded window is made of them only, never of an acceptable step
	// or the gaps between steps. Empty for a run (its seconds are merged).
	Parts []Part `json:"degraded_steps,omitempty"`

	BaselineStart time.Time `json:"baseline_start"` // acceptable load before it; zero when there was none
	BaselineEnd   time.Time `json:"baseline_end"`

	BaselineP99Ms   float64 `json:"baseline_p99_ms"` // request-weighted mean p99 of each window
	DegradedP99Ms   float64 `json:"degraded_p99_ms"`
	BaselineRate    float64 `json:"baseline_rate"` // achieved requests per second
	DegradedRate    float64 `json:"degraded_rate"`
	DegradedOffered float64 `json:"degraded_offered"` // offered rate of the degraded load (steps), else its achieved rate
}

// Part is one degraded step of a study.
type Part struct {
	Phase capacity.Phase `json:"phase,omitempty"`
	Index int            `json:"index,omitempty"`
	Start time.Time      `json:"start"`
	End   time.Time      `json:"end"`
	Cut   bool           `json:"cut,omitempty"` // stopped before its warm-up ended: overload, nothing measured
}

// HasBaseline reports whether acceptable load came before the degradation.
func (w Window) HasBaseline() bool { return !w.BaselineEnd.IsZero() }

// spans are the degraded load's time spans: the parts, or [onset, end].
func (w Window) spans() [][2]time.Time {
	if len(w.Parts) == 0 {
		return [][2]time.Time{{w.Onset, w.End}}
	}
	out := make([][2]time.Time, len(w.Parts))
	for i, p := range w.Parts {
		out[i] = [2]time.Time{p.Start, p.End}
	}
	return out
}

// degradedAt reports whether [a, b] overlaps the degraded load.
func (w Window) degradedAt(a, b time.Time) bool {
	for _, sp := range w.spans() {
		if !a.After(sp[1]) && !b.Before(sp[0]) {
			return true
		}
	}
	return false
}

// slot is one second of a run or one step of a study.
type slot struct {
	start, end time.Time
	offered    float64
	rate       float64
	p99        float64
	phase      capacity.Phase
	index      int
	verdict    capacity.Verdict // "" when not judged: the p99 decides
	cut        bool
}

// measured reports whether the slot has latency and throughput.
func (s slot) measured() bool { return !s.cut && s.rate > 0 }

// errNoLoad is returned when the input holds no windows with requests.
var errNoLoad = errors.New("input has no seconds or steps with requests")

// sustain is how many consecutive per-second windows must break the
// threshold; a step is many seconds long and counts as sustained alone.
const sustain = 3

// FindWindow locates the degradation of a run or study: the onset (first
// window where p99 breaks the SLO, or doubles against the baseline when
// there is no SLO, for at least 3 seconds or one step), the degraded
// window around it and a baseline at acceptable load before it. A study's
// steps carry the study's verdicts: its unacceptable steps (a step cut
// short before its warm-up ended included) are the degraded window, and
// nothing else is; the last acceptable step before them is the baseline.
func FindWindow(in Input) (Window, error) {
	opts := in.Options.withDefaults()
	slots, need := inputSlots(in)
	if len(slots) == 0 {
		return Window{}, errNoLoad
	}
	if in.SLOP99Ms < 0 {
		return Window{}, fmt.Errorf("slo p99 %.1f ms: must not be negative", in.SLOP99Ms)
	}
	w := Window{ThresholdMs: in.SLOP99Ms, Reason: fmt.Sprintf("p99 above the SLO of %.0f ms", in.SLOP99Ms)}
	judged := false
	for _, s := range slots {
		judged = judged || s.verdict != ""
	}
	if w.ThresholdMs == 0 {
		ref := referenceP99(slots)
		if ref <= 0 && !judged {
			return Window{}, errNoLoad
		}
		w.ThresholdMs = 2 * ref
		w.Reason = fmt.Sprintf("p99 doubled against the baseline p99 of %.1f ms", ref)
	}
	if judged {
		w.Reason = "steps the study judged unacceptable (" + w.Reason + ", or another objective broken)"
	}
	judgedBad := func(s slot) bool {
		if s.verdict != "" {
			return s.verdict == capacity.Unacceptable
		}
		return s.rate > 0 && s.p99 > w.ThresholdMs
	}
	// Verification runs N instances behind a front: the selector's one
	// instance saw a share of that load. Its steps are evidence only when
	// no single-instance step degraded.
	single := false
	for _, s := range slots {
		single = single || (s.phase != capacity.PhaseVerify && judgedBad(s))
	}
	bad := func(s slot) bool { return judgedBad(s) && !(single && s.phase == capacity.PhaseVerify) }
	acceptable := func(s slot) bool {
		if s.verdict != "" {
			return s.verdict == capacity.Acceptable && s.measured()
		}
		return s.rate > 0 && s.p99 <= w.ThresholdMs
	}

	onset := -1
	for i := 0; i+need <= len(slots) && onset < 0; i++ {
		run := 0
		for j := i; j < len(slots) && bad(slots[j]); j++ {
			run++
		}
		if run >= need {
			onset = i
		}
	}
	if onset < 0 {
		return Window{ThresholdMs: w.ThresholdMs}, nil
	}
	var degraded []slot
	last := onset
	if need == 1 {
		// A study: every unacceptable step from the onset on, and only them.
		for j := onset; j < len(slots); j++ {
			if bad(slots[j]) {
				s := slots[j]
				degraded = append(degraded, s)
				w.Parts = append(w.Parts, Part{Phase: s.phase, Index: s.index, Start: s.start, End: s.end, Cut: s.cut})
				last = j
			}
		}
	} else {
		// A run: seconds, with blips of up to two good seconds inside.
		for j, good := onset+1, 0; j < len(slots); j++ {
			if bad(slots[j]) {
				last, good = j, 0
				continue
			}
			if good++; good > 2 {
				break
			}
		}
		degraded = slots[onset : last+1]
	}
	w.Found = true
	w.Onset = slots[onset].start
	w.Start = w.Onset.Add(-opts.Margin)
	w.End = slots[last].end
	var measured []slot
	for _, s := range degraded {
		if s.measured() {
			measured = append(measured, s)
		}
	}
	w.DegradedP99Ms, w.DegradedRate = meanOver(measured)
	w.DegradedOffered = medianOffered(degraded)

	// Baseline: acceptable windows that end before the degraded window starts.
	// A step ends where the next begins, so for steps the onset is the cut.
	cut := w.Start
	if need == 1 {
		cut = w.Onset
	}
	var base []slot
	for i := onset - 1; i >= 0; i-- {
		s := slots[i]
		// Every degraded second before the onset is a blip shorter than
		// sustain, still acceptable load; a step must be acceptable.
		if s.end.After(cut) || (need == 1 && !acceptable(s)) || s.rate <= 0 {
			continue
		}
		if len(base) > 0 && base[0].end.Sub(s.start) > opts.Baseline {
			break
		}
		base = append(base, s)
		if need == 1 {
			break // a step: the last acceptable one is the baseline
		}
	}
	if len(base) > 0 {
		sort.Slice(base, func(i, j int) bool { return base[i].start.Before(base[j].start) })
		w.BaselineStart, w.BaselineEnd = base[0].start, base[len(base)-1].end
		w.BaselineP99Ms, w.BaselineRate = meanOver(base)
	}
	return w, nil
}

// inputSlots turns steps (preferred) or seconds into slots, and says how
// many consecutive degraded slots count as sustained.
func inputSlots(in Input) ([]slot, int) {
	var out []slot
	if len(in.Steps) > 0 {
		for _, s := range in.Steps {
			if !s.End.After(s.Start) {
				continue
			}
			out = append(out, slot{start: s.Start, end: s.End, offered: s.Offered, rate: s.Achieved, p99: s.P99Ms,
				phase: s.Phase, index: s.Index, verdict: s.Verdict, cut: s.Cut})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
		return out, 1
	}
	for _, p := range in.Seconds {
		rate := p.Rate
		if rate == 0 && p.Requests > 0 {
			rate = float64(p.Requests)
		}
		out = append(out, slot{start: p.At, end: p.At.Add(time.Second), offered: rate, rate: rate, p99: p.P99Ms})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out, sustain
}

// referenceP99 is the median p99 of the first two fifths of the loaded
// windows (at least three): the latency before load built up, robust to a
// few quick or slow seconds at the start on a busy machine.
func referenceP99(slots []slot) float64 {
	var p []float64
	for _, s := range slots {
		if s.measured() && s.p99 > 0 {
			p = append(p, s.p99)
		}
	}
	if len(p) == 0 {
		return 0
	}
	n := max(2*len(p)/5, min(3, len(p)))
	first := append([]float64(nil), p[:n]...)
	sort.Float64s(first)
	return first[len(first)/2]
}

// medianOffered is the typical offered rate of the degraded slots (the
// first one of a run is often a partial second).
func medianOffered(slots []slot) float64 {
	if len(slots) == 0 {
		return 0
	}
	vs := make([]float64, 0, len(slots))
	for _, s := range slots {
		vs = append(vs, s.offered)
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

// meanOver returns the rate-weighted mean p99 and the mean rate of slots.
func meanOver(slots []slot) (p99, rate float64) {
	var wsum, psum, rsum, dur float64
	for _, s := range slots {
		d := s.end.Sub(s.start).Seconds()
		wsum += s.rate * d
		psum += s.p99 * s.rate * d
		rsum += s.rate * d
		dur += d
	}
	if wsum > 0 {
		p99 = psum / wsum
	}
	if dur > 0 {
		rate = rsum / dur
	}
	return p99, rate
}
