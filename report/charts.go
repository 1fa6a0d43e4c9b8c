package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// timeline is what every chart over time shares: the span, the seconds in
// unbroken runs (a study's cooldowns are gaps), the step or stage marks
// and the degradation window.
type timeline struct {
	from, to float64
	segments [][]window
	marks    []mark
	degraded [2]float64 // zero when no degradation was found
	baseline [2]float64 // the acceptable load it is compared with
}

// mark is a vertical line where a step or stage begins.
type mark struct {
	x     float64
	label string
}

// newTimeline lays out the source's seconds.
func newTimeline(s *source) timeline {
	var t timeline
	if len(s.windows) == 0 {
		return t
	}
	t.from = unix(s.windows[0].Start)
	last := s.windows[len(s.windows)-1]
	t.to = unix(last.Start) + math.Max(last.DurationS, 1)
	var seg []window
	for i, w := range s.windows {
		if i > 0 {
			prev := s.windows[i-1]
			gap := w.Start.Sub(prev.Start).Seconds() - math.Max(prev.DurationS, 1)
			if stepKey(w) != stepKey(prev) || gap > 1.5 {
				t.segments = append(t.segments, seg)
				seg = nil
			}
		}
		if i == 0 || stepKey(w) != stepKey(s.windows[i-1]) {
			if l := stepLabel(w); l != "" {
				t.marks = append(t.marks, mark{x: unix(w.Start), label: l})
			}
		}
		seg = append(seg, w)
	}
	t.segments = append(t.segments, seg)
	if s.kind == kindRun && s.plan != nil { // a run's stages
		at := s.windows[0].Start
		for i, st := range s.plan.Load.Stages {
			if x := unix(at); x < t.to {
				t.marks = append(t.marks, mark{x: x, label: "stage " + strconv.Itoa(i+1)})
			}
			at = at.Add(st.Duration)
		}
	}
	if c := s.corr; c != nil && c.Window.Found {
		t.degraded = [2]float64{unix(c.Window.Start), unix(c.Window.End)}
		if c.Window.HasBaseline() {
			t.baseline = [2]float64{unix(c.Window.BaselineStart), unix(c.Window.BaselineEnd)}
		}
	}
	return t
}

// stepKey tells apart the steps of a study: the verification's steps are
// numbered from 1 again, and stress is a phase of its own.
func stepKey(w window) string {
	return phaseGroup(w.Phase) + strconv.Itoa(w.Step)
}

func phaseGroup(phase string) string {
	switch capacity.Phase(phase) {
	case capacity.PhaseVerify, capacity.PhaseStress:
		return phase
	}
	return "search"
}

// stepLabel is a step's mark on the time axis: its number, V and its
// number for the verification, "stress".
func stepLabel(w window) string {
	switch {
	case w.Phase == string(capacity.PhaseStress):
		return "stress"
	case w.Step <= 0, w.Phase == string(capacity.PhaseCooldown): // a step's last second, closed after it
		return ""
	case w.Phase == string(capacity.PhaseVerify):
		return "V" + strconv.Itoa(w.Step)
	}
	return strconv.Itoa(w.Step)
}

// frame adds the shaded windows and the marks to p, sized to ymax, and
// fixes the axes.
func (t timeline) frame(p *plot.Plot, ymax float64) {
	if ymax <= 0 || !finite(ymax) {
		ymax = 1
	}
	ymax *= 1.08 // room for the mark labels
	if t.baseline[1] > t.baseline[0] {
		if b := band(p, t.baseline[0], t.baseline[1], 0, ymax, colBase); b != nil {
			p.Legend.Add("baseline window", b)
		}
	}
	if t.degraded[1] > t.degraded[0] {
		if b := band(p, t.degraded[0], t.degraded[1], 0, ymax, colShade); b != nil {
			p.Legend.Add("degradation window", b)
		}
	}
	var labels plotter.XYLabels
	last := math.Inf(-1)
	for _, m := range t.marks {
		line(p, plotter.XYs{{X: m.x, Y: 0}, {X: m.x, Y: ymax}}, colMark, 0.5, 2, 2)
		if m.x-last < 0.035*(t.to-t.from) { // too close to the last label to be read
			continue
		}
		last = m.x
		labels.XYs = append(labels.XYs, plotter.XY{X: m.x, Y: ymax * 0.96})
		labels.Labels = append(labels.Labels, m.label)
	}
	if len(labels.XYs) > 0 && len(labels.XYs) <= 60 {
		if l, err := plotter.NewLabels(labels); err == nil {
			for i := range l.TextStyle {
				l.TextStyle[i].Font = sans(7)
				l.TextStyle[i].Color = colMark
			}
			l.Offset = vg.Point{X: 2}
			p.Add(l)
		}
	}
	timeAxis(p, t.from, t.to)
	p.Y.Min, p.Y.Max = 0, ymax
}

// series draws one value per second of every segment as lines of one
// colour, and returns the largest value; the legend gets one entry.
func (t timeline) series(p *plot.Plot, name string, c plotColor, width vg.Length, value func(window) (float64, bool)) float64 {
	top := 0.0
	var first *plotter.Line
	for _, seg := range t.segments {
		var xys plotter.XYs
		for _, w := range seg {
			v, ok := value(w)
			if !ok || !finite(v) {
				continue
			}
			xys = append(xys, plotter.XY{X: unix(w.Start) + math.Max(w.DurationS, 1)/2, Y: v})
			top = math.Max(top, v)
		}
		if len(xys) == 0 {
			continue
		}
		if l := line(p, xys, c, width); l != nil && first == nil {
			first = l
		}
	}
	if first != nil && name != "" {
		p.Legend.Add(name, first)
	}
	return top
}

type plotColor = interface{ RGBA() (r, g, b, a uint32) }

// timeCharts are the charts over time: latency, throughput, error rate and
// the findings' signals.
func timeCharts(s *source, slo plan.SLO) []chart {
	t := newTimeline(s)
	if len(t.segments) == 0 {
		return nil
	}
	what := "steps numbered as in the step table"
	if s.kind == kindRun {
		what = "stages of the load profile marked"
		if s.plan == nil {
			what = "one point a second"
		}
	}
	shade := ""
	if t.degraded[1] > t.degraded[0] {
		shade = "; the degradation window is shaded"
	}
	var out []chart

	lat := newPlot("Latency over time (p50, p95, p99 of each second)", "", "latency (ms)")
	top := 0.0
	for _, w := range s.windows {
		top = math.Max(top, w.Latency.P99)
	}
	for _, l := range []struct {
		d    time.Duration
		name string
	}{{slo.P95, "p95 objective"}, {slo.P99, "p99 objective"}} {
		if l.d > 0 {
			top = math.Max(top, ms(l.d))
		}
	}
	t.frame(lat, top)
	if slo.P95 > 0 {
		hline(lat, t.from, t.to, ms(slo.P95), colP95, "p95 objective")
	}
	if slo.P99 > 0 {
		hline(lat, t.from, t.to, ms(slo.P99), colSLO, "p99 objective")
	}
	has := func(w window) bool { return w.Requests > 0 }
	t.series(lat, "p50", colP50, 1, func(w window) (float64, bool) { return w.Latency.P50, has(w) })
	t.series(lat, "p95", colP95, 1, func(w window) (float64, bool) { return w.Latency.P95, has(w) })
	t.series(lat, "p99", colP99, 1.2, func(w window) (float64, bool) { return w.Latency.P99, has(w) })
	out = append(out, chart{ID: "latency", Title: "Latency over time", plot: lat, w: chartW, h: chartH,
		Caption: "Percentiles of each second's own histogram; " + what + shade + "."})

	thr := newPlot("Throughput over time", "", "requests/s")
	top = 0
	rate := func(v float64, w window) float64 { return v / math.Max(w.DurationS, 1e-3) }
	for _, w := range s.windows {
		top = math.Max(top, rate(float64(w.Requests), w))
	}
	t.frame(thr, top)
	t.series(thr, "completed", colThrough, 1.2, func(w window) (float64, bool) { return rate(float64(w.Requests), w), true })
	t.series(thr, "errors", colError, 1, func(w window) (float64, bool) { return rate(float64(w.Errors), w), true })
	out = append(out, chart{ID: "throughput", Title: "Throughput over time", plot: thr, w: chartW, h: chartH,
		Caption: "Requests completed (and failed) per second; " + what + shade + "."})

	er := newPlot("Error rate over time", "", "errors (% of requests)")
	top = 0
	pct := func(w window) (float64, bool) {
		if w.Requests == 0 {
			return 0, false
		}
		return 100 * float64(w.Errors) / float64(w.Requests), true
	}
	for _, w := range s.windows {
		if v, ok := pct(w); ok {
			top = math.Max(top, v)
		}
	}
	if slo.ErrorRate != nil {
		top = math.Max(top, 100**slo.ErrorRate)
	}
	t.frame(er, math.Max(top, 1))
	if slo.ErrorRate != nil {
		hline(er, t.from, t.to, 100**slo.ErrorRate, colSLO, "error-rate objective")
	}
	t.series(er, "error rate", colError, 1.2, pct)
	out = append(out, chart{ID: "errors", Title: "Error rate over time", plot: er, w: chartW, h: chartH,
		Caption: "Failed requests as a share of each second's requests" + shade + "."})

	return append(out, signalCharts(s, t)...)
}

// signalCharts draws the Prometheus signal of each finding that has one,
// on the same time axis: its mean over the baseline and the degraded
// window and its peak in the degraded window.
func signalCharts(s *source, t timeline) []chart {
	if s.corr == nil || !s.corr.Window.Found {
		return nil
	}
	var out []chart
	seen := map[string]bool{}
	for _, f := range s.findings {
		r := f.Evidence.Signal
		if r == nil || !r.Available || seen[r.Signal] || len(out) == 4 {
			continue
		}
		seen[r.Signal] = true
		unit := r.Unit
		if unit == "" {
			unit = "value"
		}
		p := newPlot(fmt.Sprintf("Finding %d: %s", f.Rank, r.Title), "", unit)
		t.frame(p, math.Max(r.Peak, math.Max(r.Degraded, r.Baseline)))
		if r.HasBaseline && t.baseline[1] > t.baseline[0] {
			if l := line(p, plotter.XYs{{X: t.baseline[0], Y: r.Baseline}, {X: t.baseline[1], Y: r.Baseline}}, colP50, 2); l != nil {
				p.Legend.Add("baseline mean", l)
			}
		}
		if l := line(p, plotter.XYs{{X: t.degraded[0], Y: r.Degraded}, {X: t.degraded[1], Y: r.Degraded}}, colP99, 2); l != nil {
			p.Legend.Add("degraded mean", l)
		}
		if l := line(p, plotter.XYs{{X: t.degraded[0], Y: r.Peak}, {X: t.degraded[1], Y: r.Peak}}, colP99, 1, 1, 2); l != nil {
			p.Legend.Add("degraded peak", l)
		}
		out = append(out, chart{ID: "signal-" + r.Signal, Title: r.Title, plot: p, w: chartW, h: chartSmall,
			Caption: fmt.Sprintf("%s (%s) over the study's time axis: baseline %s, degraded %s, peak %s. Query: %s",
				r.Title, r.Signal, fmtFloat(r.Baseline), fmtFloat(r.Degraded), fmtFloat(r.Peak), r.Query)})
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
