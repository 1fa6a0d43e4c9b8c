package correlate

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// ladder is the ladder: 20 and 40/s acceptable, 80/s unacceptable
// (p99 900 ms), 60/s acceptable again, 70/s unacceptable (800 ms); each
// step measured for 30 s with 10 s between steps. The CPU is a clean line
// against throughput: 0.02 cores per req/s (20 ms a request).
func ladder() ([]Step, curve) {
	rates := []float64{20, 40, 80, 60, 70}
	p99 := []float64{40, 60, 900, 300, 800}
	verdicts := []capacity.Verdict{capacity.Acceptable, capacity.Acceptable, capacity.Unacceptable, capacity.Acceptable, capacity.Unacceptable}
	phases := []capacity.Phase{capacity.PhaseBaseline, capacity.PhaseExplore, capacity.PhaseExplore, capacity.PhaseSearch, capacity.PhaseSearch}
	var steps []Step
	for i, r := range rates {
		start := t0.Add(time.Duration(i) * 40 * time.Second)
		steps = append(steps, Step{Start: start, End: start.Add(30 * time.Second), Phase: phases[i], Index: i + 1,
			Offered: r, Achieved: r, P99Ms: p99[i], Verdict: verdicts[i]})
	}
	cpu := func(at time.Time) float64 {
		for _, s := range steps {
			// irate at t holds the increase of the two scrapes before t.
			if !at.Before(s.Start) && !at.After(s.End.Add(2*time.Second)) {
				return 0.02 * s.Achieved
			}
		}
		return 0.05 // idle between steps
	}
	return steps, cpu
}

// Rule 2: a study's degraded window is its unacceptable steps only: the
// acceptable 60/s step between the bad 80 and 70/s steps is no part of
// it, nor are the gaps between steps.
func TestWindowIsTheUnacceptableStepsOnly(t *testing.T) {
	steps, _ := ladder()
	w, err := FindWindow(Input{Steps: steps, SLOP99Ms: 400})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Parts) != 2 || w.Parts[0].Index != 3 || w.Parts[1].Index != 5 {
		t.Fatalf("degraded parts %+v, want steps 3 and 5 only", w.Parts)
	}
	// Request-weighted: (900×80 + 800×70) / 150 = 853.3 ms; with the
	// acceptable step blended in it would be 682.
	if !near(w.DegradedP99Ms, 853.33, 0.01) || !near(w.DegradedRate, 75, 1e-9) {
		t.Errorf("degraded p99 %.2f ms at %.1f/s, want 853.33 ms at 75/s", w.DegradedP99Ms, w.DegradedRate)
	}
	if !w.BaselineStart.Equal(steps[1].Start) || !w.BaselineEnd.Equal(steps[1].End) {
		t.Errorf("baseline [%v, %v], want step 2", w.BaselineStart, w.BaselineEnd)
	}
	if w.degradedAt(steps[3].Start.Add(time.Second), steps[3].End.Add(-time.Second)) || w.degradedAt(steps[2].End.Add(2*time.Second), steps[2].End.Add(5*time.Second)) {
		t.Error("the acceptable step or the gap after step 3 counts as degraded")
	}
}

// Rule 2 with the study's verdicts: a step judged unacceptable for another
// objective counts though its p99 held; a generator-limited one is
// neither degraded nor the baseline.
func TestWindowFollowsTheStudysVerdicts(t *testing.T) {
	steps, _ := ladder()
	steps[1].Verdict = capacity.GeneratorLimited
	steps[3].Verdict = capacity.Unacceptable // errors, say: its p99 of 300 ms held
	w, err := FindWindow(Input{Steps: steps, SLOP99Ms: 400})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Parts) != 3 || w.Parts[1].Index != 4 {
		t.Errorf("parts %+v, want steps 3, 4 and 5", w.Parts)
	}
	if !w.BaselineEnd.Equal(steps[0].End) {
		t.Errorf("baseline ends %v, want step 1 (step 2 was generator-limited)", w.BaselineEnd)
	}
}

// Rule 10: a stress step stopped before its warm-up ended measured
// nothing, yet held p99 far above the SLO: it is degraded evidence.
func TestACutStepIsDegradedEvidence(t *testing.T) {
	steps, _ := ladder()
	steps = steps[:2]
	start := steps[1].End.Add(10 * time.Second)
	steps = append(steps, Step{Start: start, End: start.Add(8 * time.Second), Phase: capacity.PhaseStress, Index: 3,
		Offered: 160, Verdict: capacity.Unacceptable, Cut: true})
	w, err := FindWindow(Input{Steps: steps, SLOP99Ms: 400})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Found || len(w.Parts) != 1 || !w.Parts[0].Cut || w.DegradedOffered != 160 {
		t.Fatalf("window %+v: want the cut stress step as the degraded window", w)
	}
	if w.DegradedP99Ms != 0 {
		t.Errorf("degraded p99 %.0f: a cut step has no measured p99 to blend", w.DegradedP99Ms)
	}
}

// Rule 2, the signals: each reading is the mean over the unacceptable
// steps' measured parts, its level at every step is kept, and the cost per
// request comes from a least-squares fit across the steps with its R².
func TestSignalsAgainstLoadAndTheirFit(t *testing.T) {
	steps, cpu := ladder()
	c := quietSignals()
	c["process_cpu_seconds_total"] = cpu
	prom := newFakeProm(t, c)
	src := sources(t, prom.URL, refused(t))
	in := Input{Steps: steps, SLOP99Ms: 400, Observe: plan.Observe{Selector: `{job="shop"}`}}
	rep, err := Explain(context.Background(), in, Sources{Metrics: src.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	var r *Reading
	for i := range rep.Signals {
		if rep.Signals[i].Signal == SignalCPU {
			r = &rep.Signals[i]
		}
	}
	if r == nil || !r.Available {
		t.Fatalf("no cpu reading: %v", rep.NotAvailable)
	}
	// (1.6 + 1.4) / 2 = 1.5 cores; the acceptable 60/s step (1.2) blended in would give 1.4.
	if !near(r.Degraded, 1.5, 0.02) || !near(r.Baseline, 0.8, 1e-9) {
		t.Errorf("cpu degraded %.3f baseline %.3f, want 1.5 and 0.8", r.Degraded, r.Baseline)
	}
	if len(r.Steps) != 5 {
		t.Fatalf("levels %+v, want one per step", r.Steps)
	}
	for i, l := range r.Steps {
		if !near(l.Level, 0.02*steps[i].Achieved, 1e-9) || l.Index != steps[i].Index || l.Phase != steps[i].Phase ||
			l.Acceptable != (steps[i].Verdict == capacity.Acceptable) || l.ThroughputRPS != steps[i].Achieved {
			t.Errorf("step %d level %+v, want %.2f cores at %.0f/s", i+1, l, 0.02*steps[i].Achieved, steps[i].Achieved)
		}
	}
	if r.Fit == nil || !near(r.Fit.PerRequest, 0.02, 1e-9) || !near(r.Fit.R2, 1, 1e-9) || r.Fit.Steps != 5 {
		t.Fatalf("fit %+v, want 20 ms a request, R² 1 over 5 steps", r.Fit)
	}
	top := rep.Findings[0]
	if top.Kind != KindCPU || !strings.Contains(top.Recommendation, "20.00 ms of CPU per request (the slope of a least-squares fit of cores against throughput over 5 steps, R² 1.00") {
		t.Errorf("top %s: %q, want CPU sized from the fit", top.Kind, top.Recommendation)
	}
	if !hasNote(top.Evidence.Facts, "cpu_usage against load", "explore 80.0 req/s 1.6 ✗", "search 60.0 req/s 1.2;") {
		t.Errorf("facts %q lack the signal at every step", top.Evidence.Facts)
	}
}

// The shared contract: samples as {"t", "v"}, step levels by these names.
func TestReadingJSONContract(t *testing.T) {
	r := Reading{Signal: SignalCPU, Samples: []Sample{{At: t0, Value: 1.5}},
		Steps: []StepLevel{{Phase: capacity.PhaseSearch, Index: 4, OfferedRPS: 60, ThroughputRPS: 59, Level: 1.2, Acceptable: true}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"samples":[{"t":"2023-11-14T22:13:20Z","v":1.5}]`,
		`"steps":[{"phase":"search","index":4,"offered_rps":60,"throughput_rps":59,"level":1.2,"acceptable":true}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

func TestLeastSquaresKnownAnswer(t *testing.T) {
	b, a, r2, ok := leastSquares([]float64{1, 2, 3, 4}, []float64{3, 5, 7, 9.4})
	// slope = Sxy/Sxx = 10.6/5 = 2.12; intercept = 6.1 − 2.12×2.5 = 0.8
	if !ok || !near(b, 2.12, 1e-9) || !near(a, 0.8, 1e-9) || r2 < 0.99 || r2 >= 1 {
		t.Errorf("fit b=%v a=%v r2=%v", b, a, r2)
	}
	if _, _, _, ok := leastSquares([]float64{2, 2, 2}, []float64{1, 2, 3}); ok {
		t.Error("no spread in throughput: no fit")
	}
}

// Rule 3: a baseline search asks for typical traces; the kept traces the
// study labelled typical come first, in time order, never the slowest.
func TestBaselineTracesAreTypical(t *testing.T) {
	mk := func(id string, at time.Duration, ms float64, slow bool) KeptTrace {
		return KeptTrace{ID: id, Slow: slow, Spans: []KeptSpan{{ID: "r", Name: "GET /", Service: "shop", Start: t0.Add(at), DurationMs: ms}}}
	}
	src := newKeptSource([]KeptTrace{
		mk("a1", 1*time.Second, 90, true), mk("a2", 2*time.Second, 80, true), mk("a3", 3*time.Second, 70, true),
		mk("b1", 4*time.Second, 2, false), mk("b2", 5*time.Second, 3, false), mk("b3", 6*time.Second, 2.5, false),
	}, nil)
	q := TraceQuery{Service: "shop", Start: t0, End: t0.Add(time.Minute), Limit: 3}
	q.Typical = true
	got, err := src.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || normaliseID(got[0].ID) != normaliseID("b1") || normaliseID(got[2].ID) != normaliseID("b3") {
		t.Errorf("typical search %+v, want b1, b2, b3", got)
	}
	q.Typical = false
	got, _ = src.Search(context.Background(), q)
	if len(got) != 3 || normaliseID(got[0].ID) != normaliseID("a1") {
		t.Errorf("slowest search %+v, want a1 first", got)
	}
}

// Rule 4: the pool is sized from the hold time of the requests that use
// it times their own rate, not every request's.
func TestPoolSizedByTheRateOfRequestsThatUseIt(t *testing.T) {
	r := Reading{Signal: SignalPoolWait, Degraded: 0.3, Context: map[string]Pair{AuxInUse: {Degraded: 4}, AuxMax: {Degraded: 4}}}
	b := &Breakdown{HoldTraces: 5, BaselineHoldMs: 20, BaselineTraces: 20, PoolShare: 0.25}
	got := recommendPool(r, sizing{rate: 400, degradedRate: 300, util: 0.5, spans: b})
	// 400/s × 25% = 100/s × 20 ms = 2 busy; ÷ 0.5 → 4 ≤ 4: held longer under load.
	if !strings.Contains(got, "needs only 4 connections at 100/s (25% of 400/s use the pool)") || !strings.Contains(got, "50% utilisation, the plan's autoscale_at") {
		t.Errorf("%q: want 4 connections for the 100/s that use the pool", got)
	}
}

// Rule 4: a breakdown's pool share is the share of typical baseline
// traces with pool spans.
func TestBreakdownPoolShare(t *testing.T) {
	mk := func(id string, pool bool) tree {
		spans := []Span{{ID: "r", Name: "GET /", Start: t0, End: t0.Add(10 * time.Millisecond)}}
		if pool {
			spans = append(spans, Span{ID: "w", ParentID: "r", Name: poolWaitSpan, Start: t0, End: t0.Add(time.Millisecond)},
				Span{ID: "x", ParentID: "r", Name: txSpan, Start: t0.Add(time.Millisecond), End: t0.Add(5 * time.Millisecond)})
		}
		return newTree(Trace{ID: id, Spans: spans})
	}
	base := []tree{mk("1", true), mk("2", false), mk("3", false), mk("4", false)}
	b := breakdown(base, []tree{mk("5", true)})
	if b.HoldTraces != 1 || !near(b.PoolShare, 0.25, 1e-9) || !near(b.BaselineHoldMs, 4, 1e-9) {
		t.Errorf("breakdown pool %d traces share %v hold %v, want 1, 0.25, 4 ms", b.HoldTraces, b.PoolShare, b.BaselineHoldMs)
	}
}

// Rule 5: the plan's autoscale_at reaches the findings.
func TestPlanAutoscaleAtSizesTheAdvice(t *testing.T) {
	p := &plan.Plan{}
	p.Capacity.AutoscaleAt = 0.8
	in := Input{}
	withPlan(&in, p)
	if in.Options.withDefaults().Utilisation != 0.8 {
		t.Fatalf("utilisation %v, want the plan's 0.8", in.Options.withDefaults().Utilisation)
	}
	if (Options{}).withDefaults().Utilisation != defaultUtilisation {
		t.Error("without a plan: the plan's default")
	}
}

// Rule 5: a pool whose holders are short of CPU follows GC only when GC
// took at least half of the CPU rise; else it follows the CPU.
func TestPoolFollowsGCOnlyWhenGCTookHalfTheRise(t *testing.T) {
	mk := func() []Finding {
		return []Finding{
			{Kind: KindPoolWait, Score: 0.9, Evidence: Evidence{Signal: &Reading{Signal: SignalPoolWait, Resource: ResourcePool}}},
			{Kind: KindGC, Score: 0.6, Evidence: Evidence{Signal: &Reading{Signal: SignalGC, Resource: ResourceGC}}},
			{Kind: KindCPU, Score: 0.5, Evidence: Evidence{Signal: &Reading{Signal: SignalCPU, Resource: ResourceCPU, Degraded: 1.9,
				Context: map[string]Pair{AuxGOMAXPROCS: {Degraded: 2}}}}},
		}
	}
	hold := holdGrowth{factor: 5, baseMs: 2, degMs: 10, how: "from traces"}
	fs := mk()
	orderCauses(fs, gcShare{known: true, share: 0.3, cause: false}, nil, hold)
	if !hasNote(fs[0].Evidence.Facts, "it follows cpu_usage") || hasNote(fs[0].Evidence.Facts, "it follows gc_pause") {
		t.Errorf("GC took 30%% of the rise: pool facts %q, want it to follow the CPU", fs[0].Evidence.Facts)
	}
	fs = mk()
	orderCauses(fs, gcShare{known: true, share: 0.6, cause: true}, nil, hold)
	if !hasNote(fs[0].Evidence.Facts, "it follows gc_pause") {
		t.Errorf("GC took 60%% of the rise: pool facts %q, want it to follow GC", fs[0].Evidence.Facts)
	}
}

// Rule 5: a binding CPU quota ranks first, above trace findings too.
func TestBindingQuotaRanksFirst(t *testing.T) {
	fs := []Finding{
		{Kind: KindNPlusOne, Score: 0.85},
		{Kind: KindThrottling, Score: 0.5, Evidence: Evidence{Signal: &Reading{Signal: SignalThrottling, Resource: ResourceQuota}}},
	}
	quotaFirst(fs, 1)
	if rank(fs)[0].Kind != KindThrottling {
		t.Errorf("ranked %s, want cpu_throttling first", kinds(fs))
	}
}

// Rule 10: irate over jittered scrapes read a one-core process at 1.43
// cores; the reading is smoothed and flagged, never taken as is.
func TestImpossibleCPURateIsSmoothedAndFlagged(t *testing.T) {
	var ss []Sample
	for i, v := range []float64{0.9, 0.95, 1.43, 0.6, 0.95, 0.9} {
		ss = append(ss, Sample{At: t0.Add(time.Duration(i) * time.Second), Value: v})
	}
	r := Reading{Signal: SignalCPU, Samples: ss, Context: map[string]Pair{AuxGOMAXPROCS: {Baseline: 1, Degraded: 1, Peak: 1}}}
	checkPossible(&r, time.Second)
	if len(r.Flags) != 1 || !strings.Contains(r.Flags[0], "1 samples read above the 1.00 cores of its gomaxprocs (up to 1.43)") {
		t.Fatalf("flags %q", r.Flags)
	}
	if p, v := peakOf(r.Samples), r.Samples[2].Value; p > possibleSlack || math.Abs(v-(0.95+1.43+0.6)/3) > 1e-9 {
		t.Errorf("smoothed peak %.3f, the 1.43 sample now %.3f: want each the mean of three samples (0.993)", p, v)
	}
	ok := Reading{Signal: SignalCPU, Samples: ss[:2], Context: map[string]Pair{AuxGOMAXPROCS: {Degraded: 1}}}
	checkPossible(&ok, time.Second)
	if len(ok.Flags) != 0 || ok.Samples[1].Value != 0.95 {
		t.Errorf("possible rates changed: %+v", ok)
	}
}

// Rule 10: a step the study stopped within its warm-up has no measured
// span; its seconds give it one, so it still counts as degraded evidence.
// The stress hold counts too, judged by its p99.
func TestAddUnmeasuredKeepsCutStepsAndTheStressHold(t *testing.T) {
	st := capacity.Study{Steps: []capacity.Step{
		{Index: 1, Phase: capacity.PhaseBaseline, Rate: 20, Offered: 20, Achieved: 20, Throughput: 20, Latency: capacity.Latency{P99: 40},
			Start: t0, End: t0.Add(30 * time.Second), Verdict: capacity.Acceptable, Seconds: 30},
		{Index: 2, Phase: capacity.PhaseExplore, Rate: 160, Verdict: capacity.Unacceptable, Stopped: true}, // no span: cut in the warm-up
	}}
	st.Stress = capacity.Recovery{Rate: 200, HoldS: 5}
	var secs []StepSecond
	for i := 0; i < 8; i++ { // step 2: p99 5 s for 8 s
		secs = append(secs, StepSecond{Phase: capacity.PhaseExplore, Step: 2, Second: generator.SecondRecord{
			Start: t0.Add(40*time.Second + time.Duration(i)*time.Second), DurationS: 1, Requests: 10, Latency: generator.Latency{P99: 5000}}})
	}
	for i := 0; i < 10; i++ { // stress: 5 s hold at 3 s, then recovery
		secs = append(secs, StepSecond{Phase: capacity.PhaseStress, Step: 3, Second: generator.SecondRecord{
			Start: t0.Add(60*time.Second + time.Duration(i)*time.Second), DurationS: 1, Requests: 100, Latency: generator.Latency{P99: 3000}}})
	}
	in, err := FromStudy(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.SLOP99Ms = 400
	in.AddUnmeasured(st, secs)
	if len(in.Steps) != 3 || !in.Steps[1].Cut || in.Steps[1].Index != 2 || !in.Steps[1].End.Equal(t0.Add(48*time.Second)) ||
		in.Steps[2].Phase != capacity.PhaseStress || !in.Steps[2].End.Equal(t0.Add(65*time.Second)) || in.Steps[2].P99Ms != 3000 {
		t.Fatalf("steps %+v: want the baseline, the cut step [40 s, 48 s] and the 5 s stress hold", in.Steps)
	}
	w, err := FindWindow(in)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Found || len(w.Parts) != 2 || !w.Parts[0].Cut || !w.Onset.Equal(t0.Add(40*time.Second)) || !w.BaselineEnd.Equal(t0.Add(30*time.Second)) {
		t.Errorf("window %+v: want the cut step and the stress hold as degraded, step 1 as baseline", w)
	}
}

// Rule 10 (stable answers): on a busy host the scheduler latency makes a
// CPU finding score high though the process used a fifth of its cores;
// the traces put all the added latency in the pool's wait. The pool ranks
// first, whatever the scores of the run.
func TestTracesRankThePoolAboveAStarvedHost(t *testing.T) {
	fs := []Finding{
		{Kind: KindCPU, Score: 0.77, Evidence: Evidence{SpanShare: 0.01, Signal: &Reading{Signal: SignalCPU, Resource: ResourceCPU}}},
		{Kind: KindPoolWait, Score: 0.70, Evidence: Evidence{SpanShare: 0.99, Signal: &Reading{Signal: SignalPoolWait, Resource: ResourcePool}}},
	}
	orderCauses(fs, gcShare{}, nil, holdGrowth{factor: 2.9})
	if rank(fs)[0].Kind != KindPoolWait || !hasNote(fs[1].Evidence.Facts, "it ranks below pool_wait: the traces put 99% of the added latency in pool's spans") {
		t.Errorf("ranked %s, cpu facts %q: want the pool first", kinds(fs), fs[1].Evidence.Facts)
	}
}

// Rule 5 through Explain: a binding quota ranks first even above an N+1
// pattern the traces show plainly.
func TestExplainRanksABindingQuotaAboveTraceFindings(t *testing.T) {
	s := nPlusOneScenario()
	s.curves["process_cpu_seconds_total"] = stepAt(at, 0.5, 0.98)
	s.curves["container_cpu_usage_seconds_total"] = stepAt(at, 0.5, 0.98)
	s.curves["container_cpu_cfs_throttled_periods_total"] = stepAt(at, 0, 0.6)
	s.curves["container_cpu_cfs_throttled_seconds_total"] = stepAt(at, 0, 0.9)
	s.curves["container_spec_cpu_quota"] = constant(1)
	rep := explainScenario(t, s)
	if rep.Findings[0].Kind != KindThrottling || findingOf(rep, string(KindNPlusOne)) == nil {
		t.Errorf("ranked %s: want cpu_throttling first, the N+1 below it", kinds(rep.Findings))
	}
}

// Rule 4: a setting read beside a signal (here the pool's size, cut from
// 10 to 1 a third into the degraded window) is the value in force, the
// median of its samples, not a blend of both.
func TestSettingsAreTheValueInForce(t *testing.T) {
	s := poolScenario()
	s.curves["go_sql_max_open_connections"] = stepAt(t0.Add(knee+20*time.Second), 10, 1)
	rep := explainScenario(t, s)
	for _, r := range rep.Signals {
		if r.Signal == SignalPoolWait {
			if got := r.Context[AuxMax].Degraded; got != 1 {
				t.Errorf("pool size in the degraded window %v, want 1 (in force for 40 of its 60 s)", got)
			}
			if got := r.Context[AuxInUse].Degraded; !near(got, 10, 1e-9) {
				t.Errorf("connections in use %v, want the mean 10", got)
			}
			return
		}
	}
	t.Fatal("no pool_wait reading")
}

// Rule 5: a pool follows the CPU only when the process used its cores (60%
// of them); scheduler latency on a host whose other work holds the cores
// is no cause of it. The real-stack pool scenario on a loaded machine:
// 0.88 of 2 cores, goroutines waiting 25 ms, the traces' added latency all
// in the pool's wait.
func TestPoolFollowsCPUOnlyWhenTheProcessUsedItsCores(t *testing.T) {
	fs := []Finding{
		{Kind: KindCPU, Score: 0.97, Evidence: Evidence{SpanShare: 0, Signal: &Reading{Signal: SignalCPU, Resource: ResourceCPU, Degraded: 0.88,
			Context: map[string]Pair{AuxGOMAXPROCS: {Degraded: 2}}}}},
		{Kind: KindPoolWait, Score: 0.82, Evidence: Evidence{SpanShare: 1, Signal: &Reading{Signal: SignalPoolWait, Resource: ResourcePool}}},
	}
	orderCauses(fs, gcShare{}, nil, holdGrowth{factor: 6.6, baseMs: 14, degMs: 91.9, how: "from traces"})
	if hasNote(fs[1].Evidence.Facts, "it follows cpu_usage") || rank(fs)[0].Kind != KindPoolWait {
		t.Errorf("ranked %s, facts %q / %q: want the pool first, following nothing", kinds(fs), fs[0].Evidence.Facts, fs[1].Evidence.Facts)
	}
}

// Rule 10 (stable answers): the real-stack downstream scenario on a busy
// host: goroutines waited 15 ms for a CPU the process barely used, while
// the traces put 98% of the added latency in the payment call. The call
// ranks first; the CPU says why it does not.
func TestSignalsRankBelowTheSpanThatTookTheTime(t *testing.T) {
	fs := []Finding{
		{Kind: KindCPU, Score: 0.71, Evidence: Evidence{SpanShare: 0, Signal: &Reading{Signal: SignalCPU, Resource: ResourceCPU}}},
		{Kind: KindSlowSpan, Score: 0.69, Evidence: Evidence{SpanShare: 0.98, Span: &SpanDelta{Name: "payment", Client: true}}},
	}
	belowSpans(fs)
	if rank(fs)[0].Kind != KindSlowSpan || !hasNote(fs[1].Evidence.Facts, `it ranks below slow_span: the traces put 98% of the added latency in "payment"`) {
		t.Errorf("ranked %s, cpu facts %q: want the payment span first", kinds(fs), fs[1].Evidence.Facts)
	}
}

// Rule 4: the GC share of the CPU rise divides means by means. GC cores
// alternate 1.2 and 0.2 each second in the degraded window (mean 0.7; a
// median would read 0.2 or 1.2); the CPU rises from 0.5 to 1.9 cores:
// (0.7 − 0.05) / 1.4 ≈ 46% (0.71 and 47% with the window's odd count of
// samples); a median would read 0.20 or 1.20 cores in GC.
func TestGCShareIsMeanOverMean(t *testing.T) {
	s := cpuScenario()
	s.curves["go_cpu_classes_gc_total_cpu_seconds_total"] = func(t time.Time) float64 {
		switch {
		case t.Before(at):
			return 0.05
		case t.Unix()%2 == 0:
			return 1.2
		}
		return 0.2
	}
	rep := explainScenario(t, s)
	cpu := findingOf(rep, string(KindCPU))
	if cpu == nil || !hasNote(cpu.Evidence.Facts, "of the CPU rise (means of samples", "0.05 → 0.7") {
		t.Errorf("cpu facts %q: want GC at 0.7 cores, the mean, of the rise", factsOf(cpu))
	}
}
