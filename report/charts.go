package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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

// studyCharts are the charts against load: throughput vs offered,
// latency vs load and the USL curve.
func studyCharts(st *capacity.Study, slo plan.SLO) []chart {
	steps := usable(st.Steps)
	if len(steps) == 0 {
		return nil
	}
	rpi := st.Capacity.RequestsPerIteration
	if rpi <= 0 {
		rpi = 1
	}
	var out []chart

	tv := newPlot("Throughput vs offered load", "offered (requests/s)", "completed (requests/s)")
	var thr, good, ideal plotter.XYs
	top := 0.0
	for _, s := range steps {
		off := s.Offered * rpi
		thr = append(thr, plotter.XY{X: off, Y: s.Throughput})
		good = append(good, plotter.XY{X: off, Y: s.Goodput})
		top = math.Max(top, math.Max(off, s.Throughput))
	}
	sort.Slice(thr, func(i, j int) bool { return thr[i].X < thr[j].X })
	sort.Slice(good, func(i, j int) bool { return good[i].X < good[j].X })
	ideal = plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}}
	if l := line(tv, ideal, colOffered, 0.8, 4, 3); l != nil {
		tv.Legend.Add("completed = offered", l)
	}
	if l := line(tv, thr, colThrough, 1); l != nil {
		if g := points(tv, thr, colThrough, draw.CircleGlyph{}); g != nil {
			tv.Legend.Add("throughput", l, g)
		}
	}
	if g := points(tv, good, colP50, draw.CrossGlyph{}); g != nil {
		tv.Legend.Add("goodput (no error)", g)
	}
	if st.Capacity.SingleInstanceRPS > 0 {
		line(tv, plotter.XYs{{X: st.Capacity.SingleInstanceRPS, Y: 0}, {X: st.Capacity.SingleInstanceRPS, Y: top}}, colP99, 1, 2, 2)
	}
	tv.X.Min, tv.Y.Min = 0, 0
	tv.Y.Max = top * 1.08
	out = append(out, chart{ID: "throughput-vs-offered", Title: "Throughput vs offered load", plot: tv, w: chartW, h: chartH,
		Caption: fmt.Sprintf("Each point is one step of the single-instance search (generator-limited steps left out); offered = iterations/s × %s requests per iteration. The dotted vertical line is the capacity, %s req/s.", fmtFloat(rpi), fmtFloat(st.Capacity.SingleInstanceRPS))})

	lv := newPlot("Latency vs load", "offered load (requests/s)", "latency (ms)")
	byLoad := append([]capacity.Step(nil), steps...)
	sort.Slice(byLoad, func(i, j int) bool { return byLoad[i].Offered < byLoad[j].Offered })
	top, xtop := 0.0, 0.0
	for _, s := range byLoad {
		top = math.Max(top, s.Latency.P99)
		xtop = math.Max(xtop, s.Offered*rpi)
	}
	if slo.P99 > 0 {
		top = math.Max(top, ms(slo.P99))
	}
	for _, q := range []struct {
		name  string
		c     plotColor
		value func(capacity.Latency) float64
		shape draw.GlyphDrawer
	}{
		{"p50", colP50, func(l capacity.Latency) float64 { return l.P50 }, draw.CircleGlyph{}},
		{"p95", colP95, func(l capacity.Latency) float64 { return l.P95 }, draw.SquareGlyph{}},
		{"p99", colP99, func(l capacity.Latency) float64 { return l.P99 }, draw.TriangleGlyph{}},
	} {
		var xys plotter.XYs
		for _, s := range byLoad {
			xys = append(xys, plotter.XY{X: s.Offered * rpi, Y: q.value(s.Latency)})
		}
		l := line(lv, xys, q.c, 0.8)
		if g := points(lv, xys, q.c, q.shape); g != nil && l != nil {
			lv.Legend.Add(q.name, l, g)
		}
	}
	caption := "p50/p95/p99 of each step, from the step's merged histogram, against the load offered to it."
	if st.USL.Reported && st.USL.Lambda > 0 {
		var curve plotter.XYs
		nMax := maxConcurrency(steps) * 1.3
		if u := st.USL; u.PeakN > 0 {
			nMax = math.Min(nMax, u.PeakN) // past the peak the curve turns back
		}
		for i := 1; i <= 80; i++ {
			n := nMax * float64(i) / 80
			x := st.USL.Throughput(n)
			if x <= 0 {
				continue
			}
			r := 1000 * n / x // Little's Law: R = N / X
			if r > top*1.08 {
				break
			}
			curve = append(curve, plotter.XY{X: x, Y: r})
		}
		if l := line(lv, curve, colFit, 1.2, 5, 2); l != nil {
			lv.Legend.Add("USL mean", l)
		}
		caption += " The dashed curve is the mean latency the USL fit predicts at throughput X(N), by Little's Law: R = N ÷ X(N), up to the USL's peak."
	}
	if slo.P99 > 0 {
		hline(lv, 0, xtop*1.05, ms(slo.P99), colSLO, "p99 objective")
	}
	lv.X.Min, lv.Y.Min = 0, 0
	lv.Y.Max = top * 1.08
	out = append(out, chart{ID: "latency-vs-load", Title: "Latency vs load", plot: lv, w: chartW, h: chartH, Caption: caption})

	if u := st.USL; u.Points > 0 {
		up := newPlot("Universal Scalability Law", "concurrency N (mean in flight)", "goodput X (requests/s)")
		var xys plotter.XYs
		ytop := 0.0
		for _, s := range steps {
			n := s.InFlight
			if n <= 0 {
				n = s.LittlesL
			}
			xys = append(xys, plotter.XY{X: n, Y: s.Goodput})
			ytop = math.Max(ytop, s.Goodput)
		}
		if g := points(up, xys, colThrough, draw.CircleGlyph{}); g != nil {
			up.Legend.Add("steps", g)
		}
		caption := "Goodput against mean concurrency for each step. "
		if u.Reported && u.Lambda > 0 {
			f := plotter.NewFunction(u.Throughput)
			f.XMin, f.XMax, f.Samples = 0.01, maxConcurrency(steps)*1.5, 100
			f.Color, f.Width = colFit, 1.2
			up.Add(f)
			up.Legend.Add("USL fit X(N)", f)
			ytop = math.Max(ytop, math.Min(u.Throughput(maxConcurrency(steps)*1.5), ytop*1.5))
			caption += fmt.Sprintf("The curve is X(N) = λN ÷ (1 + σ(N−1) + κN(N−1)) with λ = %s, σ = %s, κ = %s (R² %.2f over %d points).",
				fmtFloat(u.Lambda), fmtSci(u.Sigma), fmtSci(u.Kappa), u.R2, u.Points)
		} else {
			caption += "No curve: the fit was refused (" + st.USL.Refused + ")."
		}
		up.X.Min, up.Y.Min = 0, 0
		up.X.Max = maxConcurrency(steps) * 1.5
		up.Y.Max = ytop * 1.1
		out = append(out, chart{ID: "usl", Title: "Universal Scalability Law", plot: up, w: chartW, h: chartH, Caption: caption})
	}
	return out
}

// usable are the steps the system under test decided.
func usable(steps []capacity.Step) []capacity.Step {
	var out []capacity.Step
	for _, s := range steps {
		if s.Verdict != capacity.GeneratorLimited && s.Seconds >= 1 {
			out = append(out, s)
		}
	}
	return out
}

func maxConcurrency(steps []capacity.Step) float64 {
	n := 1.0
	for _, s := range steps {
		n = math.Max(n, math.Max(s.InFlight, s.LittlesL))
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
