package pipeline

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// fakeService is a load engine in virtual time against a service that
// answers in 5 ms up to Capacity iterations/s (Instances times that at
// the verify URL) and in 800 ms beyond. One iteration is one request.
type fakeService struct {
	Capacity  float64
	Instances float64
	VerifyURL string
	FailAt    int // the probe (1-based) that fails; 0 = none

	hooks   capacity.ProberHooks
	clock   time.Time
	probes  int
	seconds int // seconds served, all probes
}

func (f *fakeService) prober(_ *plan.Plan, h capacity.ProberHooks) capacity.Prober {
	f.hooks = h
	f.clock = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return capacity.ProberFunc(f.probe)
}

func (f *fakeService) probe(ctx context.Context, p capacity.Probe) (capacity.Summary, error) {
	f.probes++
	if f.probes == f.FailAt {
		return capacity.Summary{}, errors.New("the load engine broke")
	}
	limit := f.Capacity
	if p.URL == f.VerifyURL {
		limit *= f.Instances
	}
	var sum capacity.Summary
	merged := generator.NewHistogram()
	var inFlight float64
	elapsed := time.Duration(0)
	for _, h := range p.Holds {
		for d := time.Duration(0); d < h.Duration; d += time.Second {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			n := int64(math.Round(h.Rate))
			us := int64(5_000)
			if h.Rate > limit {
				us = 800_000
			}
			hist := generator.NewHistogram()
			for i := int64(0); i < n; i++ {
				_ = hist.RecordValue(us + i%100)
			}
			win := generator.Window{Name: "home", Requests: n, Latency: generator.LatencyOf(hist), Hist: hist}
			total := win
			total.Name = ""
			sec := generator.Second{Start: f.clock, Duration: time.Second, Total: total, ByName: []generator.Window{win},
				Offered: h.Rate, Iterations: n, InFlight: h.Rate * float64(us) / 1e6}
			if f.hooks.OnSecond != nil {
				f.hooks.OnSecond(sec)
			}
			f.seconds++
			if elapsed >= p.Warmup {
				if sum.Start.IsZero() {
					sum.Start = f.clock
				}
				sum.End = f.clock.Add(time.Second)
				sum.Seconds++
				sum.Offered += h.Rate
				sum.Requests += n
				sum.Iterations += n
				inFlight += sec.InFlight
				merged.Merge(hist)
			}
			f.clock = f.clock.Add(time.Second)
			elapsed += time.Second
			sum.Elapsed, sum.Sent = elapsed, sum.Sent+n
			tick := capacity.Tick{Elapsed: elapsed, Offered: h.Rate, Achieved: float64(n), Requests: n,
				InFlight: sec.InFlight, Latency: capacity.Latency(total.Latency)}
			if p.Watch != nil && !p.Watch(tick) {
				sum.Stopped = true
				return f.finish(sum, merged, inFlight), nil
			}
		}
	}
	return f.finish(sum, merged, inFlight), nil
}

func (f *fakeService) finish(sum capacity.Summary, h *hdrhistogram.Histogram, inFlight float64) capacity.Summary {
	if sum.Seconds == 0 {
		return sum
	}
	sum.Offered /= sum.Seconds
	sum.Achieved = float64(sum.Iterations) / sum.Seconds
	sum.Throughput = float64(sum.Requests) / sum.Seconds
	sum.Goodput = sum.Throughput
	sum.InFlight = inFlight / sum.Seconds
	sum.Hist = h
	sum.Latency = capacity.Latency(generator.LatencyOf(h))
	return sum
}

const studyPlan = `version: 1
name: pipeline-study
target:
  base_url: http://127.0.0.1:1
  allow: [127.0.0.1]
slo:
  p99: 500ms
  error_rate: 1%
load:
  model: open
  stages:
    - { duration: 1s, target: 1 }
journeys:
  - name: browse
    steps:
      - name: home
        get: /
capacity:
  start_rate: 10
  step_duration: 5s
  precision: 10%
  cooldown: 2s
  instances: 2
  verify_url: http://127.0.0.1:2
OBSERVE`

// recorder keeps what the hooks were told.
type recorder struct {
	windows []Window
	steps   []capacity.Step
	events  []capacity.Event
	phases  []string
}

func (r *recorder) hooks() Hooks {
	return Hooks{
		OnWindow: func(w Window) { r.windows = append(r.windows, w) },
		OnStep:   func(s capacity.Step) { r.steps = append(r.steps, s) },
		OnEvent:  func(e capacity.Event) { r.events = append(r.events, e) },
		OnPhase:  func(p string) { r.phases = append(r.phases, p) },
	}
}

func TestStudyKeepsEverySecondOfEveryStep(t *testing.T) {
	// A Prometheus that is not there: the correlation runs and says so.
	p := parsePlan(t, studyPlan, "OBSERVE", "observe:\n  prometheus: http://127.0.0.1:1\n")
	svc := &fakeService{Capacity: 100, Instances: 2, VerifyURL: "http://127.0.0.1:2"}
	var (
		rec        recorder
		measured   *StudyResult
		seen       StudyResult // a copy of what OnStudyMeasured was given
		phasesThen []string
	)
	h := rec.hooks()
	h.OnStudyMeasured = func(r *StudyResult) {
		measured, seen, phasesThen = r, *r, slices.Clone(rec.phases)
	}
	res, err := study(context.Background(), p, Settings{}, h, svc.prober)
	if err != nil {
		t.Fatal(err)
	}
	// The study is handed over with its outcome and steps final, before
	// the findings are read.
	if measured != res || seen.Outcome != Passed || len(seen.Steps) != len(res.Steps) || seen.Correlation != nil || len(seen.Findings) != 0 {
		t.Errorf("OnStudyMeasured saw outcome %q, %d steps, correlation %v (same result: %v); want passed, %d, none yet",
			seen.Outcome, len(seen.Steps), seen.Correlation, measured == res, len(res.Steps))
	}
	if slices.Contains(phasesThen, PhaseCorrelate) || !slices.Contains(phasesThen, "stress") {
		t.Errorf("phases before OnStudyMeasured %v, want every load phase and not yet correlate", phasesThen)
	}
	if res.Kind != KindStudy || res.Outcome != Passed || !res.Complete {
		t.Fatalf("kind %q, outcome %q, complete %v; want a passed, complete study (notes %q)", res.Kind, res.Outcome, res.Complete, res.Notes)
	}
	if c := res.Capacity.SingleInstanceRPS; c < 90 || c > 100 {
		t.Errorf("capacity %.1f req/s, want within the precision below 100", c)
	}
	if len(res.Prediction.Steps) == 0 || res.Stress.Rate == 0 {
		t.Fatalf("no verify steps or no stress: %+v", res.Prediction)
	}

	// Every second the engine served is a window, in order, as told.
	if len(res.Windows) != svc.seconds || !reflect.DeepEqual(rec.windows, res.Windows) {
		t.Fatalf("%d windows kept, %d told, %d served", len(res.Windows), len(rec.windows), svc.seconds)
	}
	for i := 1; i < len(res.Windows); i++ {
		if !res.Windows[i].Start.After(res.Windows[i-1].Start) {
			t.Fatalf("window %d is not after window %d", i, i-1)
		}
	}
	// Each step's windows are labelled with its phase and index: as many
	// as the step lasted.
	all := append(slices.Clone(res.Steps), res.Prediction.Steps...)
	for _, st := range all {
		n := 0
		for _, w := range res.Windows {
			if w.Phase == string(st.Phase) && w.Step == st.Index {
				n++
			}
		}
		if float64(n) != st.Elapsed {
			t.Errorf("%s step %d lasted %gs but has %d windows", st.Phase, st.Index, st.Elapsed, n)
		}
	}
	var phases []capacity.Phase
	for _, w := range res.Windows {
		if len(phases) == 0 || phases[len(phases)-1] != capacity.Phase(w.Phase) {
			phases = append(phases, capacity.Phase(w.Phase))
		}
		if len(w.ByName) != 1 || w.ByName[0].HDR == "" {
			t.Fatalf("window %s: by_name %+v, want home with its hdr", w.Start, w.ByName)
		}
	}
	for _, want := range []capacity.Phase{capacity.PhaseBaseline, capacity.PhaseExplore, capacity.PhaseCooldown, capacity.PhaseVerify, capacity.PhaseStress} {
		if !slices.Contains(phases, want) {
			t.Errorf("no %s windows; phases of the windows: %v", want, phases)
		}
	}

	// OnStep told each step as the study records it.
	if !reflect.DeepEqual(rec.steps, all) {
		t.Errorf("OnStep told %d steps, the study has %d; or they differ:\n%+v\n%+v", len(rec.steps), len(all), rec.steps, all)
	}
	wantPhases := []string{"baseline", "explore", "search", "verify", "stress", PhaseCorrelate}
	if !reflect.DeepEqual(rec.phases, wantPhases) {
		t.Errorf("phases told %v, want %v", rec.phases, wantPhases)
	}
	if len(rec.events) < 2*len(all) {
		t.Errorf("%d events for %d steps, want a start and an end each", len(rec.events), len(all))
	}
	if res.Correlation == nil || !strings.Contains(strings.Join(res.Correlation.NotAvailable, " "), "prometheus") {
		t.Errorf("correlation %+v, want one saying Prometheus is not available", res.Correlation)
	}

	b := checkDocument(t, res)
	a, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != KindStudy || a.Study == nil || a.Run != nil || len(a.Study.Windows) != len(res.Windows) || len(a.Study.Steps) != len(res.Steps) {
		t.Fatalf("decoded %+v", a)
	}
}

func TestStudyCancelledKeepsWhatItHas(t *testing.T) {
	p := parsePlan(t, studyPlan, "OBSERVE", "")
	svc := &fakeService{Capacity: 100, Instances: 2, VerifyURL: "http://127.0.0.1:2"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := Hooks{OnStep: func(s capacity.Step) {
		if s.Index == 2 {
			cancel()
		}
	}}
	res, err := study(ctx, p, Settings{}, h, svc.prober)
	if err != nil {
		t.Fatalf("err %v, want nil for a cancelled study", err)
	}
	if res.Outcome != Cancelled || len(res.Steps) < 2 || len(res.Windows) == 0 || res.Complete {
		t.Errorf("outcome %q, %d steps, %d windows, complete %v; want a partial, cancelled study", res.Outcome, len(res.Steps), len(res.Windows), res.Complete)
	}
}

func TestStudyThatCannotFinishIsFailedWithItsError(t *testing.T) {
	p := parsePlan(t, studyPlan, "OBSERVE", "")
	svc := &fakeService{Capacity: 100, Instances: 2, VerifyURL: "http://127.0.0.1:2", FailAt: 3}
	res, err := study(context.Background(), p, Settings{}, Hooks{}, svc.prober)
	if err == nil || !strings.Contains(err.Error(), "the load engine broke") {
		t.Fatalf("err %v, want the engine's", err)
	}
	if res == nil || res.Outcome != Failed || len(res.Steps) != 2 {
		t.Fatalf("result %+v, want the 2 steps before, failed", res)
	}
}

func TestStudyMaxRateCapsTheSearch(t *testing.T) {
	p := parsePlan(t, studyPlan, "OBSERVE", "")
	svc := &fakeService{Capacity: 100, Instances: 2, VerifyURL: "http://127.0.0.1:2"}
	res, err := study(context.Background(), p, Settings{MaxRate: 40}, Hooks{}, svc.prober)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Capacity; c.LimitedBy != capacity.LimitedByMaxRate || !c.AtLeast || c.SingleInstanceRate != 40 {
		t.Errorf("capacity %+v, want at least 40/s, limited by max_rate", c)
	}
	for _, st := range res.Steps {
		if st.Rate > 40 {
			t.Errorf("%s step %d at %g/s, above the 40/s cap", st.Phase, st.Index, st.Rate)
		}
	}
}

// TestStudyWithNoAcceptableStepFails drives a service that is slow at any
// rate the search tries: the study ends with no capacity, and it is failed
// with a note that says so, not passed with a capacity of 0.
func TestStudyWithNoAcceptableStepFails(t *testing.T) {
	p := parsePlan(t, studyPlan, "OBSERVE", "")
	svc := &fakeService{Capacity: 0.1, Instances: 2, VerifyURL: "http://127.0.0.1:2"}
	res, err := study(context.Background(), p, Settings{}, Hooks{}, svc.prober)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Failed || res.Capacity.SingleInstanceRate != 0 || len(res.Steps) < 2 {
		t.Fatalf("outcome %q, capacity %+v over %d steps; want failed with no capacity", res.Outcome, res.Capacity, len(res.Steps))
	}
	note := strings.Join(res.Notes, "\n")
	if !strings.Contains(note, "failed: no step was acceptable, down to 0.625 it/s; the baseline step's reasons: p99") {
		t.Errorf("notes %q, want the failure, the lowest rate and the baseline's reasons", res.Notes)
	}
}
