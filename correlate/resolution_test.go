package correlate

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scrapedProm is a Prometheus that holds what it scraped: counters
// sampled every interval (at an offset, as real scrapes are) and answers
// the range queries correlate sends by evaluating them on those samples:
// sum(irate(m[r])), sum(rate(m[r])), sum(m) and timestamp(up).
// Anything else has no series.
type scrapedProm struct {
	interval, offset time.Duration
	from, to         time.Time
	slopes           map[string]curve // a counter's rate per second at a time
	gauges           map[string]curve

	mu     sync.Mutex
	values map[string]map[int64]float64 // counter → scrape time → value
}

// value of the counter at scrape time t: the integral of its slope, on a
// 10 ms grid, computed once per counter for every scrape.
func (p *scrapedProm) counter(name string, t time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.values == nil {
		p.values = map[string]map[int64]float64{}
	}
	vs, ok := p.values[name]
	if !ok {
		vs = map[int64]float64{}
		const dt = 10 * time.Millisecond
		v, at := 0.0, p.from
		for _, sc := range p.scrapes(p.from, p.to) {
			for ; at.Before(sc); at = at.Add(dt) {
				v += p.slopes[name](at) * dt.Seconds()
			}
			vs[sc.UnixNano()] = v
		}
		p.values[name] = vs
	}
	return vs[t.UnixNano()]
}

// scrapes are the sample times in (a, b].
func (p *scrapedProm) scrapes(a, b time.Time) []time.Time {
	var out []time.Time
	for at := p.from.Add(p.offset); !at.After(b); at = at.Add(p.interval) {
		if at.After(a) {
			out = append(out, at)
		}
	}
	return out
}

var (
	rateRe  = regexp.MustCompile(`^sum\((i?rate)\(([a-z_:]+)(\{[^}]*\})?\[(\d+)(ms|s)\]\)\)$`)
	gaugeRe = regexp.MustCompile(`^sum\(([a-z_:]+)(\{[^}]*\})?\)$`)
	tsRe    = regexp.MustCompile(`^timestamp\(up(\{[^}]*\})?\)$`)
)

func (p *scrapedProm) eval(q string, t time.Time) (float64, bool) {
	if tsRe.MatchString(q) {
		ss := p.scrapes(t.Add(-5*time.Minute), t)
		if len(ss) == 0 {
			return 0, false
		}
		return float64(ss[len(ss)-1].UnixNano()) / 1e9, true
	}
	if m := gaugeRe.FindStringSubmatch(q); m != nil {
		g, ok := p.gauges[m[1]]
		if !ok {
			return 0, false
		}
		ss := p.scrapes(t.Add(-5*time.Minute), t)
		if len(ss) == 0 {
			return 0, false
		}
		return g(ss[len(ss)-1]), true
	}
	m := rateRe.FindStringSubmatch(q)
	if m == nil {
		return 0, false
	}
	if _, ok := p.slopes[m[2]]; !ok {
		return 0, false
	}
	n, _ := strconv.Atoi(m[4])
	r := time.Duration(n) * time.Second
	if m[5] == "ms" {
		r = time.Duration(n) * time.Millisecond
	}
	ss := p.scrapes(t.Add(-r), t)
	if len(ss) < 2 {
		return 0, false
	}
	first, last := ss[0], ss[len(ss)-1]
	if m[1] == "irate" {
		first = ss[len(ss)-2]
	}
	// rate's extrapolation to the range's edges is left out: with samples
	// a few intervals apart it changes the value little.
	return (p.counter(m[2], last) - p.counter(m[2], first)) / last.Sub(first).Seconds(), true
}

func (p *scrapedProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form.Get("query")
	start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
	end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
	step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
	var vals []string
	for ts := start; ts <= end+1e-9; ts += step {
		if v, ok := p.eval(q, time.Unix(0, int64(math.Round(ts*1e9)))); ok {
			vals = append(vals, fmt.Sprintf(`[%s,"%s"]`, strconv.FormatFloat(ts, 'f', -1, 64), strconv.FormatFloat(v, 'g', -1, 64)))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	result := ""
	if len(vals) > 0 {
		result = `{"metric":{},"values":[` + strings.Join(vals, ",") + `]}`
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, result)
}

// TestExplainReadsAShortWindowAtTheScrapeResolution: CPU steps from 0.5 to
// 1.55 cores exactly at the latency knee and stays there for the 3 s the
// latency is degraded; the pool's wait rose 5 s earlier. A 10 s rate()
// would read a blend of the step before; the finding must read the new
// level (within 5%), no lead for the CPU (it moved with the knee) and the
// pool's 5 s lead, at the resolution it states.
func TestExplainReadsAShortWindowAtTheScrapeResolution(t *testing.T) {
	knee := t0.Add(60 * time.Second)
	back := knee.Add(3 * time.Second)
	cpu := func(at time.Time) float64 {
		if !at.Before(knee) && at.Before(back) {
			return 1.55
		}
		return 0.5
	}
	p := &scrapedProm{interval: time.Second, offset: 370 * time.Millisecond, from: t0.Add(-2 * time.Minute), to: t0.Add(3 * time.Minute),
		slopes: map[string]curve{
			"process_cpu_seconds_total":          cpu,
			"go_sql_wait_duration_seconds_total": stepAt(knee.Add(-5*time.Second), 0, 0.8),
		},
		gauges: map[string]curve{"go_sched_gomaxprocs_threads": constant(2), "up": constant(1)},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)

	secs := runSeconds(120, 60*time.Second, 50, 900, 50, 300)
	for i := 63; i < len(secs); i++ { // healthy again after 3 s
		secs[i].P99Ms, secs[i].Rate, secs[i].Requests = 50, 50, 50
	}
	in := Input{Seconds: secs, SLOP99Ms: 400}
	prom, err := NewPrometheus(srv.URL, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Explain(context.Background(), in, Sources{Metrics: prom})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Window.Found || !rep.Window.Onset.Equal(knee) || !rep.Window.End.Equal(back) {
		t.Fatalf("window %+v, want onset %s, end %s", rep.Window, knee, back)
	}
	if rep.Resolution == nil || rep.Resolution.ScrapeIntervalS != 1 || rep.Resolution.RateWindowS != 3 || !strings.Contains(rep.Resolution.Source, "measured") {
		t.Fatalf("resolution %+v, want the 1 s scrape interval measured, irate over 3 s", rep.Resolution)
	}
	byName := map[string]Reading{}
	for _, r := range rep.Signals {
		byName[r.Signal] = r
	}
	c := byName["cpu_usage"]
	if !c.Available || math.Abs(c.Degraded-1.55)/1.55 > 0.05 {
		t.Errorf("cpu_usage degraded %.3f cores (%s), want 1.55 within 5%%", c.Degraded, c.Query)
	}
	if math.Abs(c.Baseline-0.5)/0.5 > 0.05 {
		t.Errorf("cpu_usage baseline %.3f, want 0.5", c.Baseline)
	}
	if c.LeadSeconds == nil || *c.LeadSeconds != 0 {
		t.Errorf("cpu_usage lead %v, want 0: it moved with the knee", c.LeadSeconds)
	}
	if !strings.Contains(c.Query, "irate(") || !strings.Contains(c.Query, "[3s]") || c.ResolutionS != 1 {
		t.Errorf("cpu_usage query %s at %g s, want irate over 3s at 1 s", c.Query, c.ResolutionS)
	}
	pw := byName["pool_wait"]
	if pw.LeadSeconds == nil || math.Abs(*pw.LeadSeconds-5) > 1 {
		t.Errorf("pool_wait lead %v, want 5 s (±1, the resolution)", pw.LeadSeconds)
	}
	f := findingOf(rep, "cpu_usage")
	if f == nil {
		t.Fatalf("no cpu_usage finding: %s", kinds(rep.Findings))
	}
	if !hasNote(f.Evidence.Facts, "1 s samples", "irate over 3 s") || !hasNote(f.Evidence.Facts, "moved with the latency knee") {
		t.Errorf("cpu facts %q: want the resolution and no invented lead", f.Evidence.Facts)
	}
}

func findingOf(rep Report, kind string) *Finding {
	for i := range rep.Findings {
		if string(rep.Findings[i].Kind) == kind {
			return &rep.Findings[i]
		}
	}
	return nil
}

// TestStudyWindowLeavesTheGapsBetweenStepsOut: a study's degraded window
// runs over several unacceptable steps with idle cooldowns between them;
// the signal's degraded level is the steps', not a blend with the idle gaps.
func TestStudyWindowLeavesTheGapsBetweenStepsOut(t *testing.T) {
	type st struct {
		from, to time.Duration
		cores    float64
		p99      float64
	}
	steps := []st{{0, 8 * time.Second, 0.9, 80}, {10 * time.Second, 13 * time.Second, 1.7, 900}, // the knee: a 3 s step stopped early
		{20 * time.Second, 24 * time.Second, 1.6, 800}, {30 * time.Second, 34 * time.Second, 1.65, 700}}
	base := t0.Add(time.Minute)
	cpu := func(at time.Time) float64 {
		for _, s := range steps {
			if !at.Before(base.Add(s.from)) && at.Before(base.Add(s.to)) {
				return s.cores
			}
		}
		return 0.02 // cooldown: idle
	}
	p := &scrapedProm{interval: time.Second, offset: 200 * time.Millisecond, from: t0, to: t0.Add(3 * time.Minute),
		slopes: map[string]curve{"process_cpu_seconds_total": cpu}, gauges: map[string]curve{"up": constant(1)}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	var in Input
	for _, s := range steps {
		in.Steps = append(in.Steps, Step{Start: base.Add(s.from), End: base.Add(s.to), Offered: 300, Achieved: 300, P99Ms: s.p99})
	}
	in.SLOP99Ms = 400
	prom, _ := NewPrometheus(srv.URL, 2*time.Second)
	rep, err := Explain(context.Background(), in, Sources{Metrics: prom})
	if err != nil {
		t.Fatal(err)
	}
	var c Reading
	for _, r := range rep.Signals {
		if r.Signal == "cpu_usage" {
			c = r
		}
	}
	if math.Abs(c.Degraded-1.65)/1.65 > 0.05 || math.Abs(c.Baseline-0.9)/0.9 > 0.05 {
		t.Errorf("cpu_usage %.3f → %.3f, want 0.9 → about 1.65 (the steps' levels, no idle gaps)", c.Baseline, c.Degraded)
	}
	if c.LeadSeconds == nil || *c.LeadSeconds != 0 {
		t.Errorf("lead %v, want 0: CPU moved in the gap before the knee step, which latency does not resolve", c.LeadSeconds)
	}
}
