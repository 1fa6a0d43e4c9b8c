package compare

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/generator"
)

// Verdict is the overall call of a comparison; its values are API and
// database values.
type Verdict string

// The verdicts.
const (
	NoRegression Verdict = "no_regression" // nothing moved the wrong way beyond noise and the minimum effect
	Regression   Verdict = "regression"    // a percentile, the throughput or the error rate did
	Improvement  Verdict = "improvement"   // nothing regressed and something got better
)

// Metric names one compared figure; its values are API values.
type Metric string

// The metrics compared for each request name.
const (
	P50        Metric = "p50"            // ms, merged histogram
	P95        Metric = "p95"            // ms, merged histogram
	P99        Metric = "p99"            // ms, merged histogram
	Throughput Metric = "throughput_rps" // requests per second
	ErrorRate  Metric = "error_rate"     // errors / requests
)

// metrics is the order in which a Name lists its deltas.
var metrics = []Metric{P50, P95, P99, Throughput, ErrorRate}

// Options tune a comparison. The zero value compares with the defaults in
// the comments.
type Options struct {
	// MaxRegression is the smallest relative change that counts, as a
	// fraction of the baseline's value; default 0.10. For the error rate it
	// is also an absolute floor of MaxRegression/10 (1 point of error rate
	// at the default), since a baseline without errors has no relative
	// change.
	MaxRegression float64
	// Alpha is the family-wise significance level of the rank tests;
	// default 0.01. Many request names make many tests: a delta is
	// significant when its Holm–Bonferroni adjusted p-value, over every
	// rank test of the comparison (each metric of each request name,
	// "all" included), is below Alpha (see Rule).
	Alpha float64
}

func (o Options) withDefaults() Options {
	if o.MaxRegression <= 0 {
		o.MaxRegression = 0.10
	}
	if o.Alpha <= 0 {
		o.Alpha = 0.01
	}
	return o
}

// The tests a Delta can come from.
const (
	// TestRank: a two-sided Mann–Whitney U test over per-second values.
	TestRank = "mann-whitney-u"
	// TestBracket: the single-instance capacities compared by their search
	// brackets; no statistical test runs and there is no p-value.
	TestBracket = "bracket"
)

// Rule states how a comparison decides significance, as reports and
// --help print it.
const Rule = "a change counts when it is at least the minimum effect (--max-regression) and significant: " +
	"each metric of each request name (\"all\" included) is a two-sided Mann–Whitney U test over per-second values, " +
	"and the p-values of all of them are adjusted together by Holm–Bonferroni, so the family-wise error rate stays at α " +
	"however many request names there are; a study's capacity is a bracket comparison (no test, no p-value): " +
	"it regressed when the current lowest unacceptable rate is at or below the baseline's capacity"

// Delta is one metric of one request name, baseline against current.
type Delta struct {
	Metric    Metric  `json:"metric"`
	Base      float64 `json:"base"`
	Current   float64 `json:"current"`
	Change    float64 `json:"change"`     // current − base
	ChangePct float64 `json:"change_pct"` // change / base × 100; 0 when base is 0
	Test      string  `json:"test"`       // TestRank or TestBracket
	// PValue is the rank test's two-sided p-value; nil when no test ran
	// (the capacity's bracket comparison).
	PValue *float64 `json:"p_value,omitempty"`
	// PAdjusted is PValue adjusted by Holm–Bonferroni over every rank test
	// of the comparison; Significant is PAdjusted < Alpha.
	PAdjusted   *float64 `json:"p_adjusted,omitempty"`
	Significant bool     `json:"significant"`
	Regressed   bool     `json:"regressed"` // significant, large enough and the wrong way
	Improved    bool     `json:"improved"`  // significant, large enough and the right way
	Note        string   `json:"note,omitempty"`
}

// Name is one request name's deltas ("all" for every request).
type Name struct {
	Name   string  `json:"name"`
	Deltas []Delta `json:"deltas"`
	Note   string  `json:"note,omitempty"`
}

// Result is a whole comparison.
type Result struct {
	Verdict       Verdict  `json:"verdict"`
	Reasons       []string `json:"reasons"`
	Names         []Name   `json:"names"`              // "all" first, then by name
	Capacity      *Delta   `json:"capacity,omitempty"` // studies: single-instance capacity in req/s
	MaxRegression float64  `json:"max_regression"`
	Alpha         float64  `json:"alpha"`
	Tests         int      `json:"tests"` // rank tests in the Holm–Bonferroni family
	Rule          string   `json:"rule"`  // how significance was decided (Rule)
	Notes         []string `json:"notes,omitempty"`
}

// Regressed lists the deltas that regressed, with their request names.
func (r Result) Regressed() []string {
	var out []string
	for _, n := range r.Names {
		for _, d := range n.Deltas {
			if d.Regressed {
				out = append(out, describe(n.Name, d))
			}
		}
	}
	if r.Capacity != nil && r.Capacity.Regressed {
		out = append(out, describe("", *r.Capacity))
	}
	return out
}

// ErrNoData is returned when a side has no windows with requests.
var ErrNoData = errors.New("compare: no measured requests")

// Windows compares two runs' per-second windows.
func Windows(base, current []generator.SecondRecord, o Options) (Result, error) {
	o = o.withDefaults()
	b, err := seriesOf(base)
	if err != nil {
		return Result{}, fmt.Errorf("baseline: %w", err)
	}
	c, err := seriesOf(current)
	if err != nil {
		return Result{}, fmt.Errorf("current: %w", err)
	}
	if b["all"].requests == 0 {
		return Result{}, fmt.Errorf("baseline: %w", ErrNoData)
	}
	if c["all"].requests == 0 {
		return Result{}, fmt.Errorf("current: %w", ErrNoData)
	}
	res := Result{MaxRegression: o.MaxRegression, Alpha: o.Alpha, Reasons: []string{}, Rule: Rule}
	for _, name := range names(b, c) {
		bs, cs := b[name], c[name]
		switch {
		case bs == nil:
			res.Names = append(res.Names, Name{Name: name, Note: "only in the current result"})
			continue
		case cs == nil:
			res.Names = append(res.Names, Name{Name: name, Note: "only in the baseline"})
			continue
		}
		n := Name{Name: name}
		for _, m := range metrics {
			n.Deltas = append(n.Deltas, compareMetric(m, bs, cs, o))
		}
		if !bs.merged || !cs.merged {
			n.Note = "percentiles are medians of per-second values: a side has no histogram for this name"
		}
		res.Names = append(res.Names, n)
	}
	res.Tests = holm(res.Names)
	for i := range res.Names {
		for j := range res.Names[i].Deltas {
			judge(&res.Names[i].Deltas[j], o)
		}
	}
	res.decide()
	return res, nil
}

// holm sets PAdjusted of every rank-tested delta to its Holm–Bonferroni
// adjusted p-value over all of them, and returns how many there are: the
// i-th smallest of m p-values becomes max over j ≤ i of (m−j+1)·p(j),
// at most 1.
func holm(names []Name) int {
	var ds []*Delta
	for i := range names {
		for j := range names[i].Deltas {
			if d := &names[i].Deltas[j]; d.PValue != nil {
				ds = append(ds, d)
			}
		}
	}
	sort.SliceStable(ds, func(a, b int) bool { return *ds[a].PValue < *ds[b].PValue })
	m, run := len(ds), 0.0
	for i, d := range ds {
		adj := math.Min(1, float64(m-i)**d.PValue)
		run = math.Max(run, adj)
		v := run
		d.PAdjusted = &v
	}
	return m
}

// decide sets the verdict and the reasons from the deltas.
func (r *Result) decide() {
	r.Reasons = r.Regressed()
	improved := false
	for _, n := range r.Names {
		for _, d := range n.Deltas {
			if d.Improved {
				improved = true
			}
		}
	}
	if r.Capacity != nil && r.Capacity.Improved {
		improved = true
	}
	switch {
	case len(r.Reasons) > 0:
		r.Verdict = Regression
	case improved:
		r.Verdict = Improvement
	default:
		r.Verdict = NoRegression
	}
}

// compareMetric compares one metric of one name.
func compareMetric(m Metric, b, c *series, o Options) Delta {
	d := Delta{Metric: m, Base: b.value(m), Current: c.value(m)}
	d.Change = d.Current - d.Base
	if d.Base != 0 {
		d.ChangePct = d.Change / d.Base * 100
	}
	_, p := MannWhitney(b.perSecond(m), c.perSecond(m))
	d.Test, d.PValue = TestRank, &p
	return d
}

// judge decides whether a rank-tested delta is significant (by its
// adjusted p-value), large enough, and which way it moved.
func judge(d *Delta, o Options) {
	m := d.Metric
	d.Significant = d.PAdjusted != nil && *d.PAdjusted < o.Alpha
	large := math.Abs(d.Change) >= o.MaxRegression*math.Abs(d.Base)
	if m == ErrorRate {
		large = math.Abs(d.Change) >= o.MaxRegression/10
	}
	if !d.Significant || !large || d.Change == 0 {
		return
	}
	worse := d.Change > 0 // latency and errors: up is worse
	if m == Throughput {
		worse = d.Change < 0
	}
	d.Regressed, d.Improved = worse, !worse
}

// describe words one delta for a reason line.
func describe(name string, d Delta) string {
	what := string(d.Metric)
	if name != "" {
		what = name + " " + what
	}
	if d.PValue == nil {
		return fmt.Sprintf("%s %s → %s (%+.1f%%, %s comparison, no test)", what, format(d.Metric, d.Base), format(d.Metric, d.Current), d.ChangePct, d.Test)
	}
	adj := *d.PValue
	if d.PAdjusted != nil {
		adj = *d.PAdjusted
	}
	return fmt.Sprintf("%s %s → %s (%+.1f%%, p=%.2g, Holm-adjusted %.2g)", what, format(d.Metric, d.Base), format(d.Metric, d.Current), d.ChangePct, *d.PValue, adj)
}

func format(m Metric, v float64) string {
	switch m {
	case P50, P95, P99:
		return fmt.Sprintf("%.3gms", v)
	case ErrorRate:
		return fmt.Sprintf("%.2f%%", v*100)
	}
	return fmt.Sprintf("%.1f/s", v)
}

// names lists "all" first, then every name of either side in order.
func names(b, c map[string]*series) []string {
	seen := map[string]bool{"all": true}
	var out []string
	for _, m := range []map[string]*series{b, c} {
		for n := range m {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return append([]string{"all"}, out...)
}

// series is one request name's seconds on one side.
type series struct {
	seconds          []second
	hist             *hdrhistogram.Histogram // merged; nil when a window had none
	merged           bool
	requests, errors int64
	durationS        float64
}

// second is one window of one name.
type second struct {
	durationS        float64
	requests, errors int64
	lat              generator.Latency
}

// seriesOf groups windows by request name, merging their histograms.
func seriesOf(ws []generator.SecondRecord) (map[string]*series, error) {
	out := map[string]*series{"all": {merged: true, hist: generator.NewHistogram()}}
	var total float64
	for i, w := range ws {
		total += w.DurationS
		if err := out["all"].add(w.DurationS, w.Requests, w.Errors, w.Latency, w.HDR != "", w.Histogram); err != nil {
			return nil, fmt.Errorf("window %d: %w", i, err)
		}
		for _, n := range w.ByName {
			s := out[n.Name]
			if s == nil {
				s = &series{merged: true, hist: generator.NewHistogram()}
				out[n.Name] = s
			}
			if err := s.add(w.DurationS, n.Requests, n.Errors, n.Latency, n.HDR != "", n.Histogram); err != nil {
				return nil, fmt.Errorf("window %d, %w", i, err) // the error names the request

			}
		}
	}
	for _, s := range out {
		s.durationS = total // a name absent in a second had no requests in it
	}
	return out, nil
}

// add appends one second; decode is the record's own histogram decoder,
// called only when the second has requests and a histogram.
func (s *series) add(durationS float64, requests, errors int64, lat generator.Latency, hasHDR bool, decode func() (*hdrhistogram.Histogram, error)) error {
	s.seconds = append(s.seconds, second{durationS, requests, errors, lat})
	s.requests += requests
	s.errors += errors
	if requests == 0 {
		return nil
	}
	if !hasHDR {
		s.merged = false
		return nil
	}
	h, err := decode()
	if err != nil {
		return err
	}
	s.hist.Merge(h)
	return nil
}

// value is the metric over the whole series.
func (s *series) value(m Metric) float64 {
	switch m {
	case Throughput:
		if s.durationS <= 0 {
			return 0
		}
		return float64(s.requests) / s.durationS
	case ErrorRate:
		if s.requests == 0 {
			return 0
		}
		return float64(s.errors) / float64(s.requests)
	}
	if s.merged {
		return float64(s.hist.ValueAtQuantile(quantile(m))) / 1000
	}
	return median(s.perSecond(m))
}

// perSecond is the metric of each second: the samples of the rank test.
// Seconds without requests have no latency and are left out of latency
// and error-rate samples.
func (s *series) perSecond(m Metric) []float64 {
	out := make([]float64, 0, len(s.seconds))
	for _, sec := range s.seconds {
		switch {
		case m == Throughput:
			if sec.durationS > 0 {
				out = append(out, float64(sec.requests)/sec.durationS)
			}
		case sec.requests == 0:
		case m == ErrorRate:
			out = append(out, float64(sec.errors)/float64(sec.requests))
		case m == P50:
			out = append(out, sec.lat.P50)
		case m == P95:
			out = append(out, sec.lat.P95)
		case m == P99:
			out = append(out, sec.lat.P99)
		}
	}
	return out
}

func quantile(m Metric) float64 {
	switch m {
	case P50:
		return 50
	case P95:
		return 95
	}
	return 99
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
