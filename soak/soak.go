package soak

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
)

// Point is one sample of a signal: its time and value.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Signal is one signal's trend over a soak and its verdict.
type Signal struct {
	Name         string  `json:"name"`
	Title        string  `json:"title"`
	Unit         string  `json:"unit"` // bytes, count, ms, ratio
	Verdict      Verdict `json:"verdict"`
	SlopePerHour float64 `json:"slope_per_hour"` // Theil–Sen, in Unit per hour
	CILow        float64 `json:"ci_low"`         // 95% interval of the slope, per hour
	CIHigh       float64 `json:"ci_high"`
	Level        float64 `json:"level"`                    // median value over the soak
	Growth       float64 `json:"growth"`                   // the fitted change from start to end of the soak
	Threshold    float64 `json:"threshold"`                // growth below this is not material (max of a floor and a share of Level)
	Limit        float64 `json:"limit,omitempty"`          // what it would run into, when known
	HoursToLimit float64 `json:"hours_to_limit,omitempty"` // at the fitted slope from the soak's end; set only for a leak with a limit
	Points       int     `json:"points"`                   // samples fitted
	Query        string  `json:"query,omitempty"`          // the PromQL that answered
	Note         string  `json:"note,omitempty"`           // why not available, or what else to know
	Resource     bool    `json:"resource"`                 // a leak of it is the service's (it decides the soak's verdict)
	LastHalf     float64 `json:"last_half_slope_per_hour"` // the slope over the last half alone: a leak keeps growing there
	Samples      []Point `json:"samples,omitempty"`        // at most chartPoints, for charts
}

// Result is a soak's judgement: every signal's trend.
type Result struct {
	From       time.Time `json:"from"` // the judged span: the hold, less its warm-up
	To         time.Time `json:"to"`
	Target     float64   `json:"target"` // the rate (or users) held
	Verdict    Verdict   `json:"verdict"`
	Signals    []Signal  `json:"signals"`
	Prometheus string    `json:"prometheus,omitempty"`
	Note       string    `json:"note,omitempty"` // e.g. why Prometheus could not be read
}

// Input is what Analyze judges.
type Input struct {
	Prometheus string            // observe.prometheus; "" leaves its signals not available
	Selector   string            // observe.selector, injected into every query
	Overrides  map[string]string // observe.signals: a key naming a soak signal replaces its query
	From, To   time.Time         // the span to judge
	Target     float64
	Seconds    []generator.SecondRecord // the run's windows: p99 and error rate
	Self       []Point                  // Headroom's own memory (HeadroomMemory)
	SelfHeap   []Point                  // Headroom's own live heap (HeadroomHeap)
	// SelfKept is how fast Headroom's result itself grows, bytes per hour
	// (the per-second windows kept for run.json): taken off its own
	// memory's slope before judging it, and said in its note.
	SelfKept    float64
	MemoryLimit float64           // bytes: soak.memory_limit; 0: read from Prometheus when it knows one
	Metrics     correlate.Metrics // default: a client for Prometheus
}

// minPoints is the fewest samples a verdict rests on.
const minPoints = 10

// minChanges is the fewest changes of a value updated now and then.
const minChanges = 5

// chartPoints bounds the samples kept per signal for charts.
const chartPoints = 300

// Analyze fits every signal's trend over [From, To] and judges it. It
// never fails: a signal it cannot read is NotAvailable with a note.
func Analyze(ctx context.Context, in Input) Result {
	res := Result{From: in.From, To: in.To, Target: in.Target, Prometheus: in.Prometheus}
	res.Signals = append(res.Signals, fromPrometheus(ctx, in, &res)...)
	res.Signals = append(res.Signals,
		judge(p99Def, p99Points(in.Seconds, in.From, in.To), 0, ""),
		judge(errorRateDef, errorPoints(in.Seconds, in.From, in.To), 0, ""),
		judgeSelf(selfMemDef, within(in.Self, in.From, in.To), in.SelfKept),
		judgeSelf(selfHeapDef, within(in.SelfHeap, in.From, in.To), in.SelfKept),
	)
	res.Verdict = Flat
	available := false
	for _, s := range res.Signals {
		if !s.Resource {
			continue
		}
		if s.Verdict == Leak {
			res.Verdict = Leak
		}
		available = available || s.Verdict != NotAvailable
	}
	if !available {
		res.Verdict = NotAvailable
	}
	return res
}

// fromPrometheus reads and judges the catalog's signals.
func fromPrometheus(ctx context.Context, in Input, res *Result) []Signal {
	defs := catalog()
	out := make([]Signal, 0, len(defs))
	na := func(why string) []Signal {
		for _, d := range defs {
			out = append(out, Signal{Name: d.name, Title: d.title, Unit: d.unit, Verdict: NotAvailable, Note: why, Resource: d.resource})
		}
		return out
	}
	m := in.Metrics
	if m == nil {
		if in.Prometheus == "" {
			return na("no observe.prometheus in the plan")
		}
		p, err := correlate.NewPrometheus(in.Prometheus, 15*time.Second)
		if err != nil {
			res.Note = err.Error()
			return na(err.Error())
		}
		m = p
	}
	ms, err := correlate.ParseSelector(in.Selector)
	if err != nil {
		res.Note = err.Error()
		return na(err.Error())
	}
	step := queryStep(in.From, in.To)
	for _, d := range defs {
		if q := strings.TrimSpace(in.Overrides[d.name]); q != "" {
			d.queries = []string{q}
		}
		pts, query, why := firstWithData(ctx, m, d.queries, ms, in.From, in.To, step)
		if why != "" && res.Note == "" && ctx.Err() == nil && strings.HasPrefix(why, "prometheus") {
			res.Note = why
		}
		limit := 0.0
		if d.name == Memory && in.MemoryLimit > 0 {
			limit = in.MemoryLimit
		} else if len(d.limits) > 0 && len(pts) > 0 {
			if lp, _, _ := firstWithData(ctx, m, d.limits, ms, in.From, in.To, step); len(lp) > 0 {
				limit = lp[len(lp)-1].V
			}
		}
		s := judge(d, pts, limit, why)
		s.Query = query
		out = append(out, s)
	}
	return out
}

// queryStep spreads about a thousand samples over the span, at least 1 s apart.
func queryStep(from, to time.Time) time.Duration {
	return max(time.Second, to.Sub(from)/1000).Round(time.Second)
}

// firstWithData runs the alternatives in order and returns the first one's
// samples that has any, with the query as run; otherwise why none did.
func firstWithData(ctx context.Context, m correlate.Metrics, queries []string, ms []correlate.Matcher, from, to time.Time, step time.Duration) ([]Point, string, string) {
	why := "no data for " + strings.Join(queries, " or ")
	for _, q := range queries {
		expr, err := correlate.InjectSelector(q, ms)
		if err != nil {
			return nil, "", err.Error()
		}
		series, err := m.QueryRange(ctx, expr, from, to, step)
		if err != nil {
			why = err.Error()
			continue
		}
		var pts []Point
		for _, s := range series {
			for _, v := range s.Samples {
				if !math.IsNaN(v.Value) && !math.IsInf(v.Value, 0) {
					pts = append(pts, Point{T: v.At, V: v.Value})
				}
			}
			break // the catalog's queries aggregate to one series
		}
		if len(pts) > 0 {
			return pts, expr, ""
		}
	}
	return nil, "", why
}

// judge fits pts (hours since the first point) and gives the verdict.
func judge(d def, pts []Point, limit float64, why string) Signal {
	s := Signal{Name: d.name, Title: d.title, Unit: d.unit, Verdict: NotAvailable, Limit: limit, Resource: d.resource}
	sort.Slice(pts, func(i, j int) bool { return pts[i].T.Before(pts[j].T) })
	need := minPoints
	if ch := changesOf(pts); d.changes && len(ch) >= minChanges {
		// Each point is a measurement of its own (a GC's): a leak makes
		// GCs rarer, so fewer of them must do. A value that hardly ever
		// changes is fitted from all its samples.
		pts, need = ch, minChanges
	}
	s.Points = len(pts)
	if len(pts) < need {
		s.Note = why
		if s.Note == "" {
			s.Note = fmt.Sprintf("%d samples, fewer than the %d a trend needs", len(pts), need)
		}
		s.Limit = 0
		return s
	}
	t0 := pts[0].T
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p.T.Sub(t0).Hours(), p.V
	}
	tr, err := TheilSen(xs, ys)
	if err != nil {
		s.Note = err.Error()
		return s
	}
	sorted := append([]float64(nil), ys...)
	sort.Float64s(sorted)
	span := xs[len(xs)-1]
	s.SlopePerHour, s.CILow, s.CIHigh = tr.Slope, tr.Low, tr.High
	s.Points = tr.Points
	s.Level = median(sorted)
	s.Growth = tr.Slope * span
	s.Threshold = max(d.floor, d.relative*math.Abs(s.Level))
	s.Verdict = Flat
	half := len(xs) / 2
	late, lateErr := TheilSen(xs[half:], ys[half:])
	if lateErr == nil {
		s.LastHalf = late.Slope
	}
	// A leak grows, materially, and is still growing in the last half
	// (at least half as fast): growth that levels off is warm-up.
	if tr.Low > 0 && s.Growth >= s.Threshold && lateErr == nil && late.Slope >= tr.Slope/2 {
		s.Verdict = Leak
	} else if tr.Low > 0 && s.Growth >= s.Threshold {
		s.Note = joinNote(s.Note, fmt.Sprintf("it grew but levels off: %s/h over the last half", FormatValue(late.Slope, d.unit)))
	}
	if s.Verdict == Leak && limit > 0 {
		end := tr.At(span)
		s.HoursToLimit = max(0, (limit-end)/tr.Slope)
	}
	s.Samples = decimate(pts, chartPoints)
	return s
}

// judgeSelf judges Headroom's own memory with the growth of the result it
// keeps (kept, bytes/h) taken off first.
func judgeSelf(d def, pts []Point, kept float64) Signal {
	s := judge(d, pts, 0, "Headroom's own memory was not sampled")
	if s.Verdict == NotAvailable || kept <= 0 {
		return s
	}
	span := s.Growth / nonZero(s.SlopePerHour)
	own := s.SlopePerHour - kept
	s.Note = joinNote(s.Note, fmt.Sprintf("the per-second windows kept for the result grow about %s/h; without them %s/h",
		FormatValue(kept, d.unit), FormatValue(own, d.unit)))
	if s.Verdict == Leak && (s.CILow-kept <= 0 || own*span < s.Threshold) {
		s.Verdict = Flat
	}
	return s
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// changesOf keeps the first sample of each run of equal values.
func changesOf(pts []Point) []Point {
	out := make([]Point, 0, len(pts))
	for i, p := range pts {
		if i == 0 || p.V != pts[i-1].V {
			out = append(out, p)
		}
	}
	return out
}

func nonZero(v float64) float64 {
	if v == 0 {
		return 1
	}
	return v
}

// within returns the points in [from, to].
func within(pts []Point, from, to time.Time) []Point {
	var out []Point
	for _, p := range pts {
		if !p.T.Before(from) && !p.T.After(to) {
			out = append(out, p)
		}
	}
	return out
}

// decimate keeps at most k points, evenly spaced by index.
func decimate(pts []Point, k int) []Point {
	if len(pts) <= k {
		return pts
	}
	out := make([]Point, 0, k)
	for i := range k {
		out = append(out, pts[i*(len(pts)-1)/(k-1)])
	}
	return out
}

// p99Points are the generator's per-second p99s in the span (seconds with
// requests only).
func p99Points(secs []generator.SecondRecord, from, to time.Time) []Point {
	var out []Point
	for _, s := range secs {
		if s.Requests > 0 && !s.Start.Before(from) && !s.Start.After(to) {
			out = append(out, Point{T: s.Start, V: s.Latency.P99})
		}
	}
	return out
}

// errorPoints are the per-second error ratios in the span.
func errorPoints(secs []generator.SecondRecord, from, to time.Time) []Point {
	var out []Point
	for _, s := range secs {
		if s.Requests > 0 && !s.Start.Before(from) && !s.Start.After(to) {
			out = append(out, Point{T: s.Start, V: float64(s.Errors) / float64(s.Requests)})
		}
	}
	return out
}
