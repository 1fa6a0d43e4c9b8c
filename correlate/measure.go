package correlate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Reading is one signal measured over the baseline and degraded windows.
type Reading struct {
	Signal      string          `json:"signal"`
	Title       string          `json:"title"`
	Unit        string          `json:"unit,omitempty"`
	Resource    string          `json:"resource,omitempty"`
	Available   bool            `json:"available"`
	Reason      string          `json:"reason,omitempty"` // why it is not available
	Query       string          `json:"query,omitempty"`  // the PromQL that answered
	Baseline    float64         `json:"baseline"`         // mean over the baseline window
	Degraded    float64         `json:"degraded"`         // mean over the degraded window
	Peak        float64         `json:"peak"`             // highest value in the degraded window
	HasBaseline bool            `json:"has_baseline"`
	LeadSeconds *float64        `json:"lead_seconds,omitempty"` // how long its move came before the latency knee (negative: after)
	Pearson     *float64        `json:"pearson,omitempty"`      // correlation with p99 across steps (or seconds)
	Context     map[string]Pair `json:"context,omitempty"`      // related values, by Aux name
	samples     []Sample
}

// Pair is a value over the baseline and the degraded window.
type Pair struct {
	Baseline float64 `json:"baseline"`
	Degraded float64 `json:"degraded"`
	Peak     float64 `json:"peak"` // highest sample in the degraded window
	Query    string  `json:"query"`
}

// maxPoints keeps a range query under Prometheus's 11,000-point limit.
const maxPoints = 10000

// queryWorkers bounds the concurrent queries to one Prometheus.
const queryWorkers = 4

// measure reads every signal over the whole input span. A failure of the
// server (refused, 5xx, bad answer, timeout) stops all queries and is
// returned; a query the server rejects or finds nothing for makes only
// its signal not available.
func measure(ctx context.Context, m Metrics, sigs []Signal, ms []Matcher, w Window, slots []slot, opts Options) ([]Reading, error) {
	start, end := w.Start, w.End
	if w.HasBaseline() && w.BaselineStart.Before(start) {
		start = w.BaselineStart
	}
	if len(slots) > 0 {
		start = minTime(start, slots[0].start)
		end = maxTime(end, slots[len(slots)-1].end)
	}
	step := opts.Step
	if n := end.Sub(start) / step; n > maxPoints {
		step = (end.Sub(start)/maxPoints + time.Second).Truncate(time.Second)
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu        sync.Mutex
		sourceErr error
	)
	ask := func(tmpls []string) (string, []Sample, error) {
		var lastErr error
		for _, tmpl := range tmpls {
			q, err := expand(tmpl, ms, step)
			if err != nil {
				lastErr = err
				continue
			}
			ss, err := m.QueryRange(qctx, q, start, end, step)
			var qe *QueryError
			switch {
			case errors.As(err, &qe):
				lastErr = err
				continue
			case err != nil:
				mu.Lock()
				if sourceErr == nil && ctx.Err() == nil {
					sourceErr = err
				}
				mu.Unlock()
				cancel()
				return "", nil, err
			}
			if samples := sumSeries(ss); len(samples) > 0 {
				return q, samples, nil
			}
			lastErr = fmt.Errorf("no series for %s", q)
		}
		return "", nil, lastErr
	}
	out := make([]Reading, len(sigs))
	g := new(errgroup.Group)
	g.SetLimit(queryWorkers)
	for i, sig := range sigs {
		g.Go(func() error {
			r := Reading{Signal: sig.Name, Title: sig.Title, Unit: sig.Unit, Resource: sig.Resource}
			q, samples, err := ask(sig.Queries)
			if err != nil {
				r.Reason = err.Error()
				out[i] = r
				return nil
			}
			r.Available, r.Query, r.samples = true, q, samples
			summarise(&r, w, slots)
			if r.LeadSeconds != nil && strings.Contains(q, "rate(") {
				// rate() over a window reaches half a step change half a
				// window after it happened.
				lead := *r.LeadSeconds + rateSpan(step).Seconds()/2
				r.LeadSeconds = &lead
			}
			for _, aux := range sig.Context {
				q, samples, err := ask(aux.Queries)
				if err != nil {
					continue
				}
				if r.Context == nil {
					r.Context = map[string]Pair{}
				}
				// Medians: a limit that changed at the knee reads as the
				// value in force, not a blend.
				b, _ := medianBetween(samples, w.BaselineStart, w.BaselineEnd)
				d, _ := medianBetween(samples, w.Onset, w.End)
				r.Context[aux.Name] = Pair{Baseline: b, Degraded: d, Peak: peakBetween(samples, w.Onset, w.End), Query: q}
			}
			out[i] = r
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, sourceErr
}

// summarise fills a reading's window means, peak, lead and correlation.
func summarise(r *Reading, w Window, slots []slot) {
	d, ok := meanBetween(r.samples, w.Onset, w.End)
	if !ok {
		r.Available = false
		r.Reason = fmt.Sprintf("no samples of %s in the degraded window", r.Query)
		return
	}
	r.Degraded = d
	for _, s := range r.samples {
		if !s.At.Before(w.Onset) && !s.At.After(w.End) {
			r.Peak = math.Max(r.Peak, s.Value)
		}
	}
	if w.HasBaseline() {
		r.Baseline, r.HasBaseline = meanBetween(r.samples, w.BaselineStart, w.BaselineEnd)
	}
	if r.HasBaseline {
		if at, ok := moveOnset(r.samples, r.Baseline, r.Degraded, w.BaselineStart, w.End); ok {
			lead := w.Onset.Sub(at).Seconds()
			r.LeadSeconds = &lead
		}
	}
	if c, ok := correlation(r.samples, slots); ok {
		r.Pearson = &c
	}
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

// medianBetween is the median of the samples in [a, b].
// peakBetween is the highest sample in [a, b], 0 when there is none.
func peakBetween(s []Sample, a, b time.Time) float64 {
	peak := 0.0
	for _, v := range s {
		if !v.At.Before(a) && !v.At.After(b) && v.Value > peak {
			peak = v.Value
		}
	}
	return peak
}

func medianBetween(s []Sample, a, b time.Time) (float64, bool) {
	var vs []float64
	for _, v := range s {
		if !v.At.Before(a) && !v.At.After(b) {
			vs = append(vs, v.Value)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	sort.Float64s(vs)
	return vs[len(vs)/2], true
}

// moveOnset is when the signal first crossed halfway from its baseline to
// its degraded level and stayed there for three samples.
func moveOnset(s []Sample, base, deg float64, from, to time.Time) (time.Time, bool) {
	delta := deg - base
	if math.Abs(delta) < 0.1*math.Max(math.Abs(base), 1e-9) {
		return time.Time{}, false
	}
	mid := base + delta/2
	run := 0
	for i, v := range s {
		if v.At.Before(from) || v.At.After(to) {
			continue
		}
		if (delta > 0 && v.Value > mid) || (delta < 0 && v.Value < mid) {
			run++
			if run == 3 {
				return s[i-2].At, true
			}
			continue
		}
		run = 0
	}
	return time.Time{}, false
}

// correlation is Pearson's r between the signal and p99: across steps
// (the signal's mean within each step), or across seconds for a run.
func correlation(s []Sample, slots []slot) (float64, bool) {
	var xs, ys []float64
	for _, sl := range slots {
		if sl.rate <= 0 {
			continue
		}
		v, ok := meanBetween(s, sl.start, sl.end)
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

// pearson is the sample correlation coefficient; false when either side
// does not vary.
func pearson(xs, ys []float64) (float64, bool) {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
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

// scrapeHealth reads up{selector} over the degraded window: no series
// means the selector matches no scrape target; gaps mean the service's own
// metrics are incomplete there. It returns a note, or "".
func scrapeHealth(ctx context.Context, m Metrics, ms []Matcher, w Window, step time.Duration) (string, bool) {
	q, err := expand(`avg(up)`, ms, step)
	if err != nil {
		return "", false
	}
	ss, err := m.QueryRange(ctx, q, w.Onset, w.End, step)
	if err != nil {
		return "", false
	}
	samples := sumSeries(ss)
	if len(samples) == 0 {
		return fmt.Sprintf("no scrape target matches the selector (%s has no series): check observe.selector", q), true
	}
	up, _ := meanBetween(samples, w.Onset, w.End)
	if up < 0.9 {
		return fmt.Sprintf("Prometheus failed %.0f%% of its scrapes of the service in the degraded window (%s): an overloaded process often cannot answer /metrics, so its signals there are incomplete", 100*(1-up), q), false
	}
	return "", false
}
