package correlate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// CPUGauge tells the CPU utilisation an instance shows at a request rate.
// It reads the instance's CPU from Prometheus over each acceptable step of
// a study (the wall-clock span of its measured part, trimmed at both ends
// so ramp-up stays out), as a fraction of the instance's cores when the
// service exports go_sched_gomaxprocs_threads, and interpolates between
// the steps' measured rates. It implements capacity.CPUGauge and
// capacity.StepCPUGauge; a study hands it its steps itself.
type CPUGauge struct {
	// Steps are what CPUAt measures, for a study read back from a file;
	// CPUFromSteps is given its own.
	Steps []capacity.Step

	metrics Metrics
	ms      []Matcher
	queries []string // the cpu_usage signal's, $rate for the window
}

// The study (capacity) reads CPU through these interfaces of its own.
var (
	_ capacity.CPUGauge     = (*CPUGauge)(nil)
	_ capacity.StepCPUGauge = (*CPUGauge)(nil)
)

// Limits of the gauge.
const (
	// cpuEdgeTrim is the share of a step's measured span left out at each end.
	cpuEdgeTrim = 0.1
	// cpuMinWindow is the shortest span a step's CPU is read over.
	cpuMinWindow = 2 * time.Second
	// cpuMaxExtrapolation is how far past the measured steps, relative to
	// the nearest one's rate, the gauge extrapolates.
	cpuMaxExtrapolation = 0.2
	// cpuSameRate merges steps whose rates are this close (relative).
	cpuSameRate = 0.01
)

// coresQuery reads the instance's cores; one series per Go process.
const coresQuery = `go_sched_gomaxprocs_threads`

// NewCPUGauge returns a gauge reading the Prometheus at o.Prometheus for
// the instance o.Selector names, with the cpu_usage signal's queries (the
// plan's observe.signals override included). Every call to Prometheus
// gives up after timeout (default 10s). A missing or malformed
// observe.prometheus or observe.selector is an error naming the field.
func NewCPUGauge(o plan.Observe, timeout time.Duration) (*CPUGauge, error) {
	ms, err := ParseSelector(o.Selector)
	if err != nil {
		return nil, err
	}
	if o.Prometheus == "" {
		return nil, errors.New("observe.prometheus: not set in the plan")
	}
	if _, err := checkBaseURL(o.Prometheus); err != nil {
		return nil, fmt.Errorf("observe.prometheus %q: %w", o.Prometheus, err)
	}
	p, err := NewPrometheus(o.Prometheus, timeout)
	if err != nil {
		return nil, err
	}
	g := &CPUGauge{metrics: p, ms: ms}
	for _, s := range Catalog(o.Signals) {
		if s.Name == SignalCPU {
			g.queries = s.Queries
		}
	}
	return g, nil
}

// CPUAt returns the utilisation at rps over g.Steps: a fraction of the
// instance's cores, or of one core when their count is not exported.
func (g *CPUGauge) CPUAt(ctx context.Context, rps float64) (float64, error) {
	r, err := g.CPUFromSteps(ctx, g.Steps, rps)
	return r.Fraction, err
}

// CPUFromSteps reads the CPU of each acceptable step with a wall-clock
// span and returns the utilisation at rps (requests/s), interpolated
// linearly between the two steps around it, or extrapolated from the two
// nearest when rps lies at most 20% past them (the reading's note says
// so). Errors wrapping ErrNotAvailable mean Prometheus or the series could
// not be read; others say why the steps cannot answer for rps.
func (g *CPUGauge) CPUFromSteps(ctx context.Context, steps []capacity.Step, rps float64) (capacity.CPUReading, error) {
	if rps <= 0 || math.IsInf(rps, 0) || math.IsNaN(rps) {
		return capacity.CPUReading{}, fmt.Errorf("CPU at %g req/s: not a positive rate", rps)
	}
	if g == nil || g.metrics == nil {
		return capacity.CPUReading{}, fmt.Errorf("%w: no Prometheus to read CPU from", ErrNotAvailable)
	}
	windows := cpuWindows(steps)
	if len(windows) == 0 {
		return capacity.CPUReading{}, fmt.Errorf("%w: no acceptable step with a wall-clock span of at least %s to read CPU over", ErrNotAvailable, cpuMinWindow)
	}
	pts, last, err := g.readSteps(ctx, windows)
	if err != nil {
		return capacity.CPUReading{}, err
	}
	cores, err := g.cores(ctx, last)
	if err != nil {
		return capacity.CPUReading{}, err
	}
	used, note, err := interpolate(pts, rps)
	if err != nil {
		return capacity.CPUReading{}, err
	}
	r := capacity.CPUReading{Fraction: used, Cores: cores, Note: note}
	if cores > 0 {
		r.Fraction = used / cores
	} else {
		r.Note = joinNotes(r.Note, coresQuery+" is not exported: the fraction is of one core")
	}
	return r, nil
}

// cpuWindow is where one step's CPU is read: rate over span, evaluated at at.
type cpuWindow struct {
	rps  float64
	at   time.Time
	span time.Duration
}

// cpuWindows keeps the acceptable steps with a usable span, trimmed.
func cpuWindows(steps []capacity.Step) []cpuWindow {
	var out []cpuWindow
	for _, st := range steps {
		if st.Verdict != capacity.Acceptable || st.Start.IsZero() || !st.End.After(st.Start) || st.Throughput <= 0 {
			continue
		}
		trim := time.Duration(cpuEdgeTrim * float64(st.End.Sub(st.Start)))
		from := st.Start.Add(trim)
		span := st.End.Add(-trim).Sub(from).Truncate(time.Second)
		if span < cpuMinWindow {
			continue
		}
		out = append(out, cpuWindow{rps: st.Throughput, at: from.Add(span), span: span})
	}
	return out
}

// point is the CPU (cores used) at a measured rate.
type point struct{ rps, cpu float64 }

// readSteps reads the cores each window used. The first query with data
// answers for every step. It returns the points and the evaluation time of
// the last step read.
func (g *CPUGauge) readSteps(ctx context.Context, windows []cpuWindow) ([]point, time.Time, error) {
	queries := g.queries
	var (
		pts     []point
		last    time.Time
		lastErr error
	)
	for _, w := range windows {
		if err := ctx.Err(); err != nil {
			return nil, last, err
		}
		for i, tmpl := range queries {
			v, q, err := g.instant(ctx, overSpan(tmpl, w.span), w.at)
			var qe *QueryError
			switch {
			case errors.As(err, &qe):
				lastErr = err
				continue
			case err != nil:
				return nil, last, err
			case math.IsNaN(v):
				lastErr = fmt.Errorf("no series for %s", q)
				continue
			}
			queries = queries[i : i+1] // the first that answered answers the rest
			pts = append(pts, point{rps: w.rps, cpu: v})
			last = w.at
			break
		}
	}
	if len(pts) == 0 {
		if lastErr == nil {
			lastErr = errors.New("no CPU query")
		}
		return nil, last, fmt.Errorf("%w: CPU over %d acceptable steps: %v (check observe.selector, and that each step is longer than two scrape intervals)",
			ErrNotAvailable, len(windows), lastErr)
	}
	return pts, last, nil
}

// instant evaluates tmpl (the selector injected) at one time and returns
// the sum of its series, NaN when there is none. A failure of the server
// or the connection wraps ErrNotAvailable.
func (g *CPUGauge) instant(ctx context.Context, tmpl string, at time.Time) (float64, string, error) {
	ss, q, err := g.query(ctx, tmpl, at)
	if err != nil {
		return 0, q, err
	}
	samples := sumSeries(ss)
	if len(samples) == 0 {
		return math.NaN(), q, nil
	}
	return samples[len(samples)-1].Value, q, nil
}

func (g *CPUGauge) query(ctx context.Context, tmpl string, at time.Time) ([]Series, string, error) {
	q, err := InjectSelector(tmpl, g.ms)
	if err != nil {
		return nil, tmpl, &QueryError{Query: tmpl, Err: err}
	}
	ss, err := g.metrics.QueryRange(ctx, q, at, at, time.Second)
	var qe *QueryError
	if err != nil && !errors.As(err, &qe) && ctx.Err() == nil {
		err = fmt.Errorf("%w: %v", ErrNotAvailable, err)
	}
	return ss, q, err
}

// cores reads GOMAXPROCS of the instance at at; 0 when it is not
// exported. A selector matching several instances is an error: a fraction
// of one instance's cores needs one instance.
func (g *CPUGauge) cores(ctx context.Context, at time.Time) (float64, error) {
	ss, q, err := g.query(ctx, coresQuery, at)
	var qe *QueryError
	switch {
	case errors.As(err, &qe):
		return 0, nil
	case err != nil:
		return 0, err
	}
	var live []Series
	for _, s := range ss {
		if len(finite(s.Samples)) > 0 {
			live = append(live, s)
		}
	}
	switch len(live) {
	case 0:
		return 0, nil
	case 1:
		v := finite(live[0].Samples)
		return v[len(v)-1].Value, nil
	}
	names := make([]string, 0, len(live))
	for _, s := range live {
		names = append(names, s.Labels["instance"])
	}
	sort.Strings(names)
	return 0, fmt.Errorf("observe.selector: %s has %d series (instances %s): name the one instance under study, e.g. {instance=%q}",
		q, len(live), strings.Join(names, ", "), names[0])
}

// interpolate returns the cores used at rps from the measured points and a
// note when it extrapolated.
func interpolate(pts []point, rps float64) (float64, string, error) {
	pts = mergeRates(pts)
	lo, hi := pts[0], pts[len(pts)-1]
	if len(pts) == 1 {
		if math.Abs(rps-lo.rps) <= cpuSameRate*lo.rps {
			return lo.cpu, "", nil
		}
		return 0, "", fmt.Errorf("CPU at %s req/s: only one acceptable step has CPU (at %s req/s); two are needed to interpolate",
			fmtRate(rps), fmtRate(lo.rps))
	}
	switch {
	case rps < lo.rps:
		past := (lo.rps - rps) / lo.rps
		if past > cpuMaxExtrapolation {
			return 0, "", fmt.Errorf("CPU at %s req/s: %.0f%% below the lowest acceptable step with CPU (%s req/s), too far to extrapolate (at most %.0f%%)",
				fmtRate(rps), 100*past, fmtRate(lo.rps), 100*cpuMaxExtrapolation)
		}
		v := max(0, line(pts[0], pts[1], rps))
		return v, fmt.Sprintf("extrapolated %.0f%% below the lowest step with CPU (%s req/s)", 100*past, fmtRate(lo.rps)), nil
	case rps > hi.rps:
		past := (rps - hi.rps) / hi.rps
		if past > cpuMaxExtrapolation {
			return 0, "", fmt.Errorf("CPU at %s req/s: %.0f%% above the highest acceptable step with CPU (%s req/s), too far to extrapolate (at most %.0f%%)",
				fmtRate(rps), 100*past, fmtRate(hi.rps), 100*cpuMaxExtrapolation)
		}
		v := max(0, line(pts[len(pts)-2], hi, rps))
		return v, fmt.Sprintf("extrapolated %.0f%% above the highest step with CPU (%s req/s)", 100*past, fmtRate(hi.rps)), nil
	}
	i := sort.Search(len(pts), func(i int) bool { return pts[i].rps >= rps })
	if pts[i].rps == rps {
		return pts[i].cpu, "", nil
	}
	return line(pts[i-1], pts[i], rps), "", nil
}

// mergeRates sorts points by rate and averages those at (nearly) the same
// rate, so neighbours are distinct.
func mergeRates(pts []point) []point {
	sorted := append([]point(nil), pts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].rps < sorted[j].rps })
	var out []point
	n := 0.0
	for _, p := range sorted {
		if len(out) > 0 {
			last := &out[len(out)-1]
			if p.rps-last.rps <= cpuSameRate*last.rps {
				n++
				last.rps += (p.rps - last.rps) / n
				last.cpu += (p.cpu - last.cpu) / n
				continue
			}
		}
		out = append(out, p)
		n = 1
	}
	return out
}

// line is the value at x on the line through a and b.
func line(a, b point, x float64) float64 {
	return a.cpu + (b.cpu-a.cpu)*(x-a.rps)/(b.rps-a.rps)
}

// overSpan fills a signal template for one value over a whole span: the
// catalog's irate (two samples) becomes rate over the span.
func overSpan(tmpl string, span time.Duration) string {
	return strings.ReplaceAll(strings.ReplaceAll(tmpl, "irate(", "rate("), "$rate", promDuration(span))
}

// promDuration writes whole seconds as PromQL reads them: 12s.
func promDuration(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func fmtRate(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
