package report

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// The fixtures are built in code, not read from JSON, so that they follow
// the types and every figure in them is consistent: steps and summaries
// are merged from the seconds' own histograms.

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// names and shares of the plan's requests per iteration (browse ×10:
// list, detail; checkout ×1: login, add, coupon 30%, checkout).
var names = []struct {
	name  string
	share float64 // requests of this name per iteration
}{
	{"add to cart", 1.0 / 11}, {"apply coupon", 0.3 / 11}, {"checkout", 1.0 / 11},
	{"list products", 10.0 / 11}, {"login", 1.0 / 11}, {"product detail", 10.0 / 11},
}

const rpi = (10*2 + 1*3.3) / 11.0

func loadPlan(t testing.TB) *plan.Plan {
	t.Helper()
	p, err := plan.LoadFile("testdata/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// second builds one second at rate it/s with mean latency meanMs and an
// error share: every request name gets its share of requests, each
// latency a fixed quantile of a shifted exponential.
func second(at time.Time, rate, meanMs, errShare float64) generator.SecondRecord {
	total := generator.NewHistogram()
	rec := generator.SecondRecord{Start: at, DurationS: 1, Offered: rate, Iterations: int64(math.Round(rate)), VUs: int(rate)}
	for k, n := range names {
		h := generator.NewHistogram()
		count := int(math.Round(rate * n.share))
		slower := 1 + 0.15*float64(k%3) // names differ a little
		for j := 0; j < count; j++ {
			u := (float64(j) + 0.5) / float64(count)
			ms := meanMs * slower * (0.5 + 0.5*-math.Log(1-u))
			_ = h.RecordValue(int64(ms * 1000))
		}
		errs := int64(math.Round(float64(count) * errShare))
		total.Merge(h)
		rec.ByName = append(rec.ByName, generator.NameRecord{Name: n.name, Requests: int64(count), Errors: errs,
			Latency: generator.LatencyOf(h), HDR: encode(h)})
		rec.Requests += int64(count)
		rec.Errors += errs
	}
	rec.Latency = generator.LatencyOf(total)
	rec.HDR = encode(total)
	rec.InFlight = float64(rec.Requests) * rec.Latency.Mean / 1000
	return rec
}

func encode(h *hdrhistogram.Histogram) string {
	if h.TotalCount() == 0 {
		return ""
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// singleMean is the single instance's mean latency at rate it/s; the
// fleet of three behind the front saturates at 200 it/s.
func singleMean(rate, speed float64) float64 { return 8 / (1 - math.Min(rate/(74*speed), 0.97)) }
func fleetMean(rate, speed float64) float64  { return 8 / (1 - math.Min(rate/(200*speed), 0.97)) }

// fixedStudy is a whole study: seven search steps, three verification
// steps, a stress surge, two findings. speed scales the service's
// saturation point: 0.7 is a service that carries 30% less.
func fixedStudy(t testing.TB, speed float64) pipeline.Artifact {
	t.Helper()
	return cached(t, fmt.Sprintf("study %g", speed), func() pipeline.Artifact { return buildStudy(t, speed) })
}

func buildStudy(t testing.TB, speed float64) pipeline.Artifact {
	p := loadPlan(t)
	st := &capacity.Study{Plan: p.Name, URL: p.Target.BaseURL, Started: t0, Complete: true}
	var windows []pipeline.Window
	at := t0
	type stepPlan struct {
		phase capacity.Phase
		rate  float64
		mean  func(rate, speed float64) float64
	}
	search := []stepPlan{{capacity.PhaseBaseline, 10, singleMean}, {capacity.PhaseExplore, 20, singleMean}, {capacity.PhaseExplore, 40, singleMean},
		{capacity.PhaseExplore, 80, singleMean}, {capacity.PhaseSearch, 60, singleMean}, {capacity.PhaseSearch, 70, singleMean}, {capacity.PhaseSearch, 65, singleMean}}
	verify := []stepPlan{{capacity.PhaseVerify, 97.5, fleetMean}, {capacity.PhaseVerify, 170, fleetMean}, {capacity.PhaseVerify, 195, fleetMean}}
	objs := p.Objectives()
	run := func(i int, sp stepPlan) capacity.Step {
		var recs []generator.SecondRecord
		for s := 0; s < 5; s++ {
			mean := sp.mean(sp.rate, speed)
			errShare := 0.001
			if mean > 140 {
				errShare = 0.02
			}
			r := second(at, sp.rate, mean, errShare)
			windows = append(windows, pipeline.Window{Phase: string(sp.phase), Step: i, SecondRecord: r})
			if s > 0 { // the first second is the warm-up
				recs = append(recs, r)
			}
			at = at.Add(time.Second)
		}
		step := stepFrom(i, sp.phase, sp.rate, recs)
		step.Verdict = capacity.Acceptable
		for _, o := range objs {
			v, _ := stepValue(&source{}, step, o)
			if o.Kind != plan.Throughput && !o.Holds(v) {
				step.Verdict = capacity.Unacceptable
				step.Reasons = append(step.Reasons, o.Name+" "+objectiveValue(o, v)+" breaks "+o.Threshold)
			}
		}
		at = at.Add(2 * time.Second) // cool-down
		return step
	}
	for i, sp := range search {
		st.Steps = append(st.Steps, run(i+1, sp))
	}
	for i, sp := range verify {
		st.Prediction.Steps = append(st.Prediction.Steps, run(i+1, sp))
	}
	capRate, unRate := 0.0, 0.0
	for _, s := range st.Steps {
		if s.Verdict == capacity.Acceptable {
			capRate = math.Max(capRate, s.Rate)
		} else if unRate == 0 || s.Rate < unRate {
			unRate = s.Rate
		}
	}
	st.Capacity = capacity.Bounds{SingleInstanceRate: capRate, UnacceptableRate: unRate, RequestsPerIteration: rpi,
		SingleInstanceRPS: capRate * rpi, UnacceptableRPS: unRate * rpi}
	required := p.Capacity.RequiredRPS
	met := st.Capacity.SingleInstanceRPS >= required
	st.Capacity.RequiredRPS, st.Capacity.RequiredMet = required, &met
	capStep := *capacityStep(st)
	st.LittlesLaw = capacity.LittleAt(capStep, 0)
	var pts []capacity.Point
	for _, s := range st.Steps {
		pts = append(pts, capacity.Point{N: s.InFlight, X: s.Goodput})
	}
	u, err := capacity.FitUSL(pts)
	st.USL = capacity.Scalability{USL: u, Reported: err == nil}
	if err != nil {
		st.USL.Refused = err.Error()
	}
	measuredRate := 0.0
	for _, s := range st.Prediction.Steps {
		if s.Verdict == capacity.Acceptable {
			measuredRate = math.Max(measuredRate, s.Rate)
		}
	}
	measured := measuredRate * rpi
	pr := &st.Prediction
	pr.Instances, pr.PredictedRPS, pr.VerifyURL = 3, 3*st.Capacity.SingleInstanceRPS, p.Capacity.VerifyURL
	ratio := measured / pr.PredictedRPS
	pr.MeasuredRPS, pr.Ratio = &measured, &ratio
	pr.Statement = "3 × capacity predicted; measured at the front"
	// stress: 5 s at 1.5 × the unacceptable point, then recovery at half the capacity
	for s := 0; s < 15; s++ {
		rate, mean := 1.5*unRate, singleMean(1.5*unRate, speed)
		if s >= 5 {
			rate, mean = capRate/2, singleMean(capRate/2, speed)*(1+3*math.Max(0, 9-float64(s))/4)
		}
		windows = append(windows, pipeline.Window{Phase: string(capacity.PhaseStress), Step: 11, SecondRecord: second(at, rate, mean, 0.01)})
		at = at.Add(time.Second)
	}
	rec := 4
	st.Stress = capacity.Recovery{Rate: 1.5 * unRate, HoldS: 5, Throughput: 1.5 * unRate * rpi * 0.9, ErrorRate: 0.01, WorstP99: 900,
		RecoveryRate: capRate / 2, Criterion: "p99 within the plan's latency objectives (< 400ms)", Recovered: true, RecoveryS: &rec,
		WindowS: 60, ElapsedS: 15, Statement: "held 105 it/s for 5 s (worst p99 900 ms); recovered 4 s after the drop to 32.5 it/s"}
	r, err := capacity.Recommend(st.Capacity.UnacceptableRPS, 0.65, p.Business)
	if err != nil {
		t.Fatal(err)
	}
	cpu := 0.58
	r.CPU, r.CPUCores = &cpu, 2
	st.Recommendation = r
	st.Finished = at
	st.Sent = 0
	for _, w := range windows {
		st.Sent += w.Requests
	}
	st.LoadS = float64(len(windows))
	st.Notes = []string{"the generator kept up with every step"}

	deg := st.Steps[3] // 80 it/s, the first unacceptable step
	corr := &correlate.Report{
		Window: correlate.Window{Found: true, Reason: "p99 above twice the baseline's", ThresholdMs: 200,
			Onset: deg.Start, Start: deg.Start.Add(-2 * time.Second), End: deg.End,
			BaselineStart: st.Steps[2].Start, BaselineEnd: st.Steps[2].End,
			BaselineP99Ms: st.Steps[2].Latency.P99, DegradedP99Ms: deg.Latency.P99, BaselineRate: st.Steps[2].Throughput, DegradedRate: deg.Throughput},
	}
	lead, pearson := 1.0, 0.94
	cpuReading := correlate.Reading{Signal: "cpu_usage", Title: "CPU usage", Unit: "cores", Resource: "cpu", Available: true,
		Query: `rate(process_cpu_seconds_total{job="shop"}[15s])`, Baseline: 0.61, Degraded: 1.86, Peak: 1.97, HasBaseline: true,
		LeadSeconds: &lead, Pearson: &pearson}
	poolReading := correlate.Reading{Signal: "pool_wait", Title: "DB pool wait", Unit: "s/s", Resource: "pool", Available: true,
		Query: `rate(go_sql_wait_duration_seconds_total{job="shop"}[15s])`, Baseline: 0.002, Degraded: 0.04, Peak: 0.09, HasBaseline: true}
	corr.Findings = []correlate.Finding{
		{Rank: 1, Kind: "cpu_usage", Title: "CPU saturated", Score: 0.82,
			Evidence: correlate.Evidence{Facts: []string{"1.86 of 2.00 cores used (GOMAXPROCS), 93%", "CPU rose 1 s before the latency knee"},
				Signal: &cpuReading, Utilisation: 0.93, SpanShare: 0.71,
				Span: &correlate.SpanDelta{Name: "GET /v1/products/{id}", BaselineMs: 9, DegradedMs: 180, AddedMs: 171, Share: 0.71, Root: true},
				Traces: []correlate.TraceLink{
					{ID: "4bf92f3577b34da6a3ce929d0e0e4736", Root: "GET /v1/products/{id}", DurationMs: 912, URL: "http://127.0.0.1:13200/trace/4bf92f3577b34da6a3ce929d0e0e4736",
						Spans: []correlate.SpanSummary{
							{Name: "work", Count: 1, DurationMs: 702, SelfMs: 702},
							{Name: "GET /v1/products/{id}", Count: 1, DurationMs: 912, SelfMs: 190},
							{Name: "SELECT products", Count: 1, DurationMs: 20, SelfMs: 20, Statement: "SELECT * FROM products WHERE id = ?"},
						}},
					{ID: "00f067aa0ba902b700f067aa0ba902b7", Root: "POST /v1/checkout", DurationMs: 780, URL: "http://127.0.0.1:13200/trace/00f067aa0ba902b700f067aa0ba902b7"},
				}},
			Recommendation: "The service's own code is the limit (2 ms of CPU a request): give each instance more CPU, or scale out at 65% of the unacceptable point; profile the product detail handler."},
		{Rank: 2, Kind: "pool_wait", Title: "Database connection pool wait", Score: 0.55,
			Evidence: correlate.Evidence{Facts: []string{"requests spent 0.040 s per second waiting for a connection (baseline 0.002)"},
				Signal: &poolReading, Queries: []string{"SELECT * FROM products WHERE id = ?"}},
			Recommendation: "Raise the pool from 10 to at least 12 connections (Little's Law at capacity) or shorten the queries that hold them."},
	}
	corr.Signals = []correlate.Reading{cpuReading, poolReading}
	corr.NotAvailable = []string{"gc_pause: not available: no series for go_gc_pause_seconds"}
	return pipeline.Artifact{Kind: pipeline.KindStudy, Study: &pipeline.StudyResult{Kind: pipeline.KindStudy, Outcome: pipeline.Passed,
		Study: st, Windows: windows, Findings: corr.Findings, Correlation: corr}}
}

// stepFrom sums up a step's measured seconds as the capacity package
// does: one merged histogram, rates per second.
func stepFrom(i int, phase capacity.Phase, rate float64, recs []generator.SecondRecord) capacity.Step {
	h, err := generator.Merged(recs, "")
	if err != nil {
		panic(err)
	}
	l := generator.LatencyOf(h)
	var reqs, errs int64
	var inflight float64
	for _, r := range recs {
		reqs += r.Requests
		errs += r.Errors
		inflight += r.InFlight
	}
	secs := float64(len(recs))
	s := capacity.Step{Index: i, Phase: phase, Rate: rate, Offered: rate, Achieved: rate,
		Throughput: float64(reqs) / secs, Goodput: float64(reqs-errs) / secs,
		Latency:   capacity.Latency{P50: l.P50, P90: l.P90, P95: l.P95, P99: l.P99, Max: l.Max, Mean: l.Mean},
		ErrorRate: float64(errs) / float64(reqs), InFlight: inflight / secs, Seconds: secs, Elapsed: secs + 1,
		Start: recs[0].Start, End: recs[len(recs)-1].Start.Add(time.Second)}
	s.LittlesL = s.Throughput * s.Latency.Mean / 1000
	return s
}

// fixedRun is a run of the plan's load profile (4 minutes, at a fifth of
// its rates) against a target that carries it easily; scale multiplies
// every latency.
func fixedRun(t testing.TB, scale float64) pipeline.Artifact {
	t.Helper()
	return shortRun(t, scale, 240)
}

// shortRun is the first n seconds of fixedRun.
func shortRun(t testing.TB, scale float64, n int) pipeline.Artifact {
	t.Helper()
	return cached(t, fmt.Sprintf("run %g %d", scale, n), func() pipeline.Artifact { return buildRun(t, scale, n) })
}

// fixtures holds each fixture built once (building them under -race is
// slow); cached hands out copies whose top-level fields a test may change.
var fixtures sync.Map

func cached(t testing.TB, key string, build func() pipeline.Artifact) pipeline.Artifact {
	t.Helper()
	v, ok := fixtures.Load(key)
	if !ok {
		v, _ = fixtures.LoadOrStore(key, build())
	}
	a := v.(pipeline.Artifact)
	if a.Study != nil {
		sr, st := *a.Study, *a.Study.Study
		sr.Study = &st
		a.Study = &sr
	}
	if a.Run != nil {
		rr, res := *a.Run, *a.Run.Result
		rr.Result = &res
		a.Run = &rr
	}
	return a
}

func buildRun(t testing.TB, scale float64, n int) pipeline.Artifact {
	p := loadPlan(t)
	var recs []generator.SecondRecord
	at := t0
	for s := 0; s < n; s++ {
		var rate float64
		switch x := float64(s); { // the plan's profile at a fifth of its rates
		case s < 30:
			rate = 4 * x / 30
		case s < 150:
			rate = 4 + 36*(x-30)/120
		case s < 210:
			rate = 40
		default:
			rate = 40 * (240 - x) / 30
		}
		rate = math.Max(rate, 1)
		recs = append(recs, second(at, rate, 8/(1-rate/80)*scale, 0.001))
		at = at.Add(time.Second)
	}
	res := &generator.Result{Start: t0, End: at, Seconds: recs}
	h, err := generator.Merged(recs, "")
	if err != nil {
		t.Fatal(err)
	}
	res.Hist = h
	var reqs, errs, iters int64
	for _, r := range recs {
		reqs, errs, iters = reqs+r.Requests, errs+r.Errors, iters+r.Iterations
	}
	res.Summary = generator.Summary{Requests: reqs, Errors: errs, ErrorRate: float64(errs) / float64(reqs),
		ThroughputRPS: float64(reqs) / at.Sub(t0).Seconds(), Latency: generator.LatencyOf(h), Iterations: iters}
	for _, n := range names {
		nh, err := generator.Merged(recs, n.name)
		if err != nil {
			t.Fatal(err)
		}
		res.ByName = append(res.ByName, generator.Summary{Name: n.name, Requests: nh.TotalCount(), Latency: generator.LatencyOf(nh)})
	}
	slo := pipeline.Evaluate(p.Objectives(), res)
	outcome := pipeline.Passed
	if !pipeline.AllPass(slo) {
		outcome = pipeline.Failed
	}
	return pipeline.Artifact{Kind: pipeline.KindRun, Run: &pipeline.RunResult{Kind: pipeline.KindRun, Plan: p.Name, Outcome: outcome,
		Result: res, SLO: slo, Findings: []correlate.Finding{}}}
}
