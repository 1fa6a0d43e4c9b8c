package correlate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
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
	LeadSeconds *float64        `json:"lead_seconds,omitempty"` // how long its move came before the latency knee (negative: after; 0: with it, as far as the data resolves)
	MovedAt     *time.Time      `json:"moved_at,omitempty"`     // when it crossed halfway from baseline to degraded and stayed
	ResolutionS float64         `json:"resolution_s,omitempty"` // seconds between its samples (the scrape interval)
	Pearson     *float64        `json:"pearson,omitempty"`      // correlation with p99 across steps (or seconds)
	Context     map[string]Pair `json:"context,omitempty"`      // related values, by Aux name
	Samples     []Sample        `json:"samples,omitempty"`      // the signal over the study, baseline start to end
	Steps       []StepLevel     `json:"steps,omitempty"`        // the signal's mean level over each step's measured part
	samples     []Sample
}

// StepLevel is a signal's mean level over one step's measured part: the
// signal against load.
type StepLevel struct {
	Phase         string  `json:"phase,omitempty"`
	Index         int     `json:"index,omitempty"`
	OfferedRPS    float64 `json:"offered_rps"`
	ThroughputRPS float64 `json:"throughput_rps"`
	Level         float64 `json:"level"`
	Acceptable    bool    `json:"acceptable"`
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
	if step <= 0 {
		step = time.Second
	}
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
			r.ResolutionS = step.Seconds()
			summarise(&r, w, slots, step)
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
				cv := coverFor(q, step)
				var b float64
				if w.HasBaseline() {
					b = medianOf(loadedSamples(samples, w.BaselineStart, w.BaselineEnd, slots, cv))
				}
				deg := loadedSamples(samples, w.Onset, w.End, slots, cv)
				r.Context[aux.Name] = Pair{Baseline: b, Degraded: medianOf(deg), Peak: peakOf(deg), Query: q}
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
// Samples come every step; an irate sample at t holds the change between
// the two scrapes before t, so a move seen at t happened in (t − 2 steps, t].
func summarise(r *Reading, w Window, slots []slot, step time.Duration) {
	cv := coverFor(r.Query, step)
	r.Samples = r.samples
	for _, sl := range slots {
		if sl.end.Sub(sl.start) <= time.Second {
			break // a run's seconds: the samples are the signal against time already
		}
		if lv, ok := meanBetween(r.samples, sl.start, sl.end); ok {
			r.Steps = append(r.Steps, StepLevel{OfferedRPS: sl.offered, ThroughputRPS: sl.rate, Level: lv})
		}
	}
	deg := loadedSamples(r.samples, w.Onset, w.End, slots, cv)
	if len(deg) == 0 {
		r.Available = false
		r.Reason = fmt.Sprintf("no samples of %s in the degraded window", r.Query)
		return
	}
	r.Degraded, r.Peak = meanOf(deg), peakOf(deg)
	var base []Sample
	if w.HasBaseline() {
		base = loadedSamples(r.samples, w.BaselineStart, w.BaselineEnd, slots, cv)
		if len(base) > 0 {
			r.Baseline, r.HasBaseline = meanOf(base), true
		}
	}
	if r.HasBaseline {
		// Only loaded samples: a study's cooldowns between steps would
		// break a run of moved samples or fake one.
		moving := r.samples // a run: load all along
		if len(slots) > 0 && slots[0].end.Sub(slots[0].start) > time.Second {
			moving = append(base, deg...)
		}
		// Three samples in a row, or all a short window has.
		if at, ok := moveOnset(moving, r.Baseline, r.Degraded, w.BaselineStart, w.End.Add(cv.lag), max(1, min(3, len(deg)))); ok {
			lead, moved := leadOf(at, cv.lag, kneeOf(w, slots))
			r.LeadSeconds, r.MovedAt = &lead, &moved
		}
	}
	if c, ok := correlation(r.samples, slots, cv); ok {
		r.Pearson = &c
	}
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

// Resolution is how finely the signals resolve time: one sample per scrape
// interval, each the increase between two consecutive scrapes.
type Resolution struct {
	ScrapeIntervalS float64 `json:"scrape_interval_s"`
	Source          string  `json:"source"`        // how the interval was found
	StepS           float64 `json:"step_s"`        // range query step
	RateWindowS     float64 `json:"rate_window_s"` // the range of irate()
}

// String is the resolution in words, for a finding's facts.
func (r Resolution) String() string {
	return fmt.Sprintf("%s s samples (irate over %s s; scrape interval %s s, %s)",
		fmtSeconds(r.StepS), fmtSeconds(r.RateWindowS), fmtSeconds(r.ScrapeIntervalS), r.Source)
}

func fmtSeconds(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// intervalQuery is the time of each target's latest scrape: evaluated
// finely, its value changes at every scrape.
const intervalQuery = `timestamp(up)`

// scrapeInterval measures the scrape interval of the selector's targets:
// the median gap between the scrape times up shows in the minute before
// at, read at a 250 ms step. 0 when there is no answer (no target
// matches, or fewer than three scrapes).
func scrapeInterval(ctx context.Context, m Metrics, ms []Matcher, at time.Time) (time.Duration, string) {
	q, err := InjectSelector(intervalQuery, ms)
	if err != nil {
		return 0, ""
	}
	ss, err := m.QueryRange(ctx, q, at.Add(-time.Minute), at, 250*time.Millisecond)
	if err != nil {
		return 0, ""
	}
	var gaps []float64
	for _, s := range ss {
		last := math.NaN()
		for _, v := range finite(s.Samples) {
			if v.Value != last {
				if !math.IsNaN(last) {
					gaps = append(gaps, v.Value-last)
				}
				last = v.Value
			}
		}
	}
	if len(gaps) < 2 {
		return 0, ""
	}
	sort.Float64s(gaps)
	d := time.Duration(gaps[len(gaps)/2] * float64(time.Second))
	if d < 10*time.Second {
		d = d.Round(100 * time.Millisecond)
	} else {
		d = d.Round(time.Second)
	}
	return max(d, 100*time.Millisecond), fmt.Sprintf("measured: the median of %d gaps between the scrape times of %s before %s", len(gaps), q, at.UTC().Format("15:04:05"))
}

// resolve picks the query step: Options.Step when set, else the measured
// scrape interval, else 1 s.
func resolve(ctx context.Context, m Metrics, ms []Matcher, w Window, set time.Duration) Resolution {
	step, how := set, "set by options"
	if step <= 0 && m != nil {
		step, how = scrapeInterval(ctx, m, ms, w.End)
	}
	if step <= 0 {
		step, how = time.Second, "not measured (no up samples for the selector): 1 s assumed"
	}
	return Resolution{ScrapeIntervalS: step.Seconds(), Source: how, StepS: step.Seconds(), RateWindowS: rateSpan(step).Seconds()}
}
