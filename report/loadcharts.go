package report

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

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
