package capacity

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// fleet routes probes to a simulated target per URL.
type fleet map[string]*simTarget

func (f fleet) Probe(ctx context.Context, p Probe) (Summary, error) {
	return f[p.URL].Probe(ctx, p)
}

func studyPlan() *plan.Plan {
	p := sloPlan(100 * time.Millisecond)
	p.Name = "sim"
	p.Target.BaseURL = "http://single"
	p.Capacity = plan.Capacity{StartRate: 10, StepDuration: 10 * time.Second, Cooldown: 5 * time.Second, Instances: 3, VerifyURL: "http://fleet", RequiredRPS: 250}
	p.Business = plan.Business{ActiveUsers: 50000, RequestsPerUserPerMinute: 2.5, PeakFactor: 3, LaunchMultiplier: 2, HAMinInstances: 3}
	return p
}

func TestRunStudyEndToEndOnSimulatedTargets(t *testing.T) {
	f := fleet{"http://single": {Capacity: 300, Base: 20, Noise: 0.05, Seed: 20}, "http://fleet": {Capacity: 800, Base: 25, Noise: 0.05, Seed: 21}}
	var events []Event
	s, err := Run(context.Background(), studyPlan(), f, Options{Progress: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Complete {
		t.Errorf("study not complete: %v", s.Notes)
	}
	if c := s.Capacity.SingleInstanceRPS; math.Abs(c-300) > 15 || s.Capacity.UnacceptableRPS <= 300 {
		t.Errorf("single instance %.1f, unacceptable %.1f; want 300 ± 5%% inside the bracket", c, s.Capacity.UnacceptableRPS)
	}
	if met := s.Capacity.RequiredMet; met == nil || !*met {
		t.Errorf("required 250 req/s: met = %v", met)
	}
	pr := s.Prediction
	if pr.PredictedRPS != 3*s.Capacity.SingleInstanceRPS || pr.MeasuredRPS == nil || math.Abs(*pr.MeasuredRPS-800) > 40 {
		t.Fatalf("prediction %+v; want 3 × single and ≈800 measured", pr)
	}
	if pr.Steps[1].Rate != 0.5*3*s.Capacity.SingleInstanceRate {
		t.Errorf("verification started at %.1f/s, want half the prediction", pr.Steps[1].Rate)
	}
	if math.Abs(*pr.Ratio-*pr.MeasuredRPS/pr.PredictedRPS) > 1e-9 {
		t.Errorf("ratio %.3f is not measured/predicted", *pr.Ratio)
	}
	if !s.Stress.Recovered || s.Stress.Rate != 1.5*s.Capacity.UnacceptableRate {
		t.Errorf("stress %+v; want 1.5 × the unacceptable point and a recovery", s.Stress)
	}
	if want := 0.65 * s.Capacity.UnacceptableRPS; math.Abs(s.Recommendation.AutoscaleRPS-want) > 1e-9 {
		t.Errorf("autoscale %.2f, want 0.65 × unacceptable = %.2f", s.Recommendation.AutoscaleRPS, want)
	}
	if l := s.LittlesLaw; math.Abs(l.Concurrency-l.Throughput*l.MeanLatency/1000) > 1e-9 || l.Concurrency <= 0 {
		t.Errorf("Little's Law %+v", l)
	}
	if !s.USL.Reported && s.USL.Refused == "" {
		t.Error("USL neither reported nor refused with a reason")
	}
	phases := map[Phase]bool{}
	for _, e := range events {
		phases[e.Phase] = true
	}
	for _, ph := range []Phase{PhaseBaseline, PhaseExplore, PhaseSearch, PhaseVerify, PhaseStress, PhaseCooldown} {
		if !phases[ph] {
			t.Errorf("no progress event for phase %s", ph)
		}
	}

	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Single instance: capacity", "Little's Law: at", "USL: ", "Prediction: 3 × ", "Stress: after", "Recommendation: scale out at", "max instances = "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
	if testing.Verbose() {
		t.Log("\n" + text.String())
	}

	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"capacity.single_instance_rps", "capacity.unacceptable_rps", "steps", "littles_law.concurrency", "usl.reported",
		"prediction.instances", "prediction.predicted_rps", "prediction.measured_rps", "prediction.ratio",
		"stress.recovery_s", "recommendation.autoscale_rps", "recommendation.min_instances", "recommendation.max_instances",
	} {
		if _, ok := lookup(doc, path); !ok {
			t.Errorf("study JSON has no %s", path)
		}
	}
}

func TestRunNotesSubLinearScaling(t *testing.T) {
	f := fleet{"http://single": {Capacity: 300, Base: 20, Seed: 22}, "http://fleet": {Capacity: 600, Base: 20, Seed: 23}}
	o := Options{SkipStress: true}
	s, err := Run(context.Background(), studyPlan(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	if r := *s.Prediction.Ratio; r > 0.72 || r < 0.6 {
		t.Errorf("ratio %.2f, want ≈ 600/900", r)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "sub-linear") {
		t.Errorf("notes %q do not explain the sub-linear scaling", s.Notes)
	}
}

func TestRunReportsRequiredRPSNotReached(t *testing.T) {
	f := fleet{"http://single": {Capacity: 120, Base: 20, Seed: 24}}
	p := studyPlan()
	p.Capacity.VerifyURL = ""
	s, err := Run(context.Background(), p, f, Options{SkipStress: true})
	if err != nil {
		t.Fatal(err)
	}
	if met := s.Capacity.RequiredMet; met == nil || *met {
		t.Errorf("required 250 with capacity ≈120: met = %v", met)
	}
	if s.Prediction.MeasuredRPS != nil {
		t.Error("measured a prediction without a verify URL")
	}
}

// lookup follows a dotted path through decoded JSON.
func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestRequestsPerIterationFollowsThePlan(t *testing.T) {
	get := plan.Step{Method: "GET", Path: "/"}
	maybe := plan.Step{Method: "POST", Path: "/", Chance: 0.3}
	p := &plan.Plan{Journeys: []plan.Journey{
		{Weight: 3, Steps: []plan.Step{get, {Think: plan.Range{Min: time.Second}}, get}}, // 2 requests
		{Weight: 1, Steps: []plan.Step{get, maybe}},                                      // 1.3 requests
	}}
	// (3 × 2 + 1 × 1.3) / 4 = 1.825.
	if got := requestsPerIteration(p, Step{}); math.Abs(got-1.825) > 1e-9 {
		t.Errorf("requests per iteration %v, want 1.825", got)
	}
	if got := requestsPerIteration(&plan.Plan{}, Step{Achieved: 100, Throughput: 250}); got != 2.5 {
		t.Errorf("without journeys: %v, want the measured 2.5", got)
	}
}

func TestRunSizesTheFleetFromItsMeasuredPerInstanceRate(t *testing.T) {
	// One instance carries 300 req/s; three carry 270, 30% of linear.
	f := fleet{"http://single": {Capacity: 300, Base: 20, Seed: 40}, "http://fleet": {Capacity: 270, Base: 20, Seed: 41}}
	s, err := Run(context.Background(), studyPlan(), f, Options{SkipStress: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, r := s.Prediction, s.Recommendation
	if pr.Ratio == nil || *pr.Ratio < 0.27 || *pr.Ratio > 0.33 || pr.UnacceptableRPS == 0 {
		t.Fatalf("prediction %+v; want ≈ 30%% of linear and a fleet unacceptable point", pr)
	}
	if r.Basis != BasisFleet || math.Abs(r.BasisRPS-pr.UnacceptableRPS/3) > 1e-9 || math.Abs(r.BasisRPS-90) > 0.05*90 {
		t.Errorf("basis %s %.2f req/s; want the fleet's unacceptable point %.2f ÷ 3 ≈ 90", r.Basis, r.BasisRPS, pr.UnacceptableRPS)
	}
	sustained := 50000 * 2.5 / 60
	if want := max(3, ceil(sustained/(0.65*r.BasisRPS))); r.MinInstances != want || r.MinInstances < 30 {
		t.Errorf("min instances %d, want ⌈%.2f ÷ (0.65 × %.2f)⌉ = %d (linear scaling would say 11)", r.MinInstances, sustained, r.BasisRPS, want)
	}
	if len(r.Arithmetic) == 0 || !strings.HasPrefix(r.Arithmetic[0], "per-instance rate at 3 instances = the fleet's unacceptable point (measured) ÷ instances") {
		t.Errorf("arithmetic %q does not derive the per-instance rate first", r.Arithmetic)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "use the per-instance rate measured at 3 instances") {
		t.Errorf("notes %q do not say the counts use the fleet's rate", s.Notes)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Log("\n" + text.String())
	}
	if !strings.Contains(text.String(), "(0.65 × the per-instance rate measured at 3 instances)") {
		t.Errorf("text does not name the basis:\n%s", text.String())
	}

	// Scaling within the tolerance keeps the single instance's basis.
	f = fleet{"http://single": {Capacity: 300, Base: 20, Seed: 42}, "http://fleet": {Capacity: 860, Base: 20, Seed: 43}}
	s, err = Run(context.Background(), studyPlan(), f, Options{SkipStress: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Recommendation; r.Basis != BasisUnacceptable || r.BasisRPS != s.Capacity.UnacceptableRPS {
		t.Errorf("ratio %.2f: basis %s %.2f; want the single-instance unacceptable point %.2f", *s.Prediction.Ratio, r.Basis, r.BasisRPS, s.Capacity.UnacceptableRPS)
	}
}

func TestRunReportsMeasuredThroughputNotIterationsTimesRequests(t *testing.T) {
	// The plan's journey makes 2 requests an iteration; the service
	// completes 1.6 (say, a step skipped on a condition). Above 200 it/s
	// every second is at 1 s, and the steps stop within their warm-up.
	p := studyPlan()
	p.Capacity.VerifyURL = ""
	p.Journeys = []plan.Journey{{Name: "two", Steps: []plan.Step{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/b"}}}}
	prober := &script{tick: func(sec int, rate float64) Tick {
		if rate > 200 {
			return second(rate, rate, int64(1.6*rate), 0, 1000)
		}
		return second(rate, rate, int64(math.Round(1.6*rate)), 0, 20)
	}}
	s, err := Run(context.Background(), p, prober, Options{SkipStress: true})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Capacity
	capStep, _ := stepAt(s.Steps, c.SingleInstanceRate)
	if c.SingleInstanceRate != 200 || c.SingleInstanceRPS != capStep.Throughput || c.SingleInstanceRPS != 320 || c.SingleInstanceSource != Measured {
		t.Errorf("capacity %.2f req/s (%s) at %.2f it/s; want the step's measured 320 req/s, not 200 × 2 = 400", c.SingleInstanceRPS, c.SingleInstanceSource, c.SingleInstanceRate)
	}
	// The unacceptable step stopped within its warm-up: its warm-up's
	// seconds are its evidence (1.6 × 210 = 336 req/s), not 210 × 2.
	if c.UnacceptableRate != 210 || c.UnacceptableRPS != 336 || c.UnacceptableSource != Measured {
		t.Errorf("unacceptable %.2f req/s (%s) at %.2f it/s; want 336 measured over the warm-up", c.UnacceptableRPS, c.UnacceptableSource, c.UnacceptableRate)
	}
	if r := s.Recommendation; r.BasisRPS != 336 {
		t.Errorf("recommendation basis %.2f, want the unacceptable point 336", r.BasisRPS)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"capacity 320 req/s (step", "at 200 it/s, measured)", "336 req/s (step", "at 210 it/s, measured over its warm-up: stopped early"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

// Rule 10: a capacity is never above the unacceptable point. Past
// 200 it/s the service collapses: every step stops within its warm-up at
// 1 s and completes fewer requests (190/s) than the 200 it/s step did.
// The unacceptable point is then the load offered (210 it/s × 1), not
// the 190 req/s it got through, and the capacity stays the 200 measured.
func TestRunNeverStatesACapacityAboveTheUnacceptablePoint(t *testing.T) {
	p := studyPlan()
	p.Capacity.VerifyURL = ""
	p.Journeys = []plan.Journey{{Name: "one", Steps: []plan.Step{{Method: "GET", Path: "/a"}}}}
	prober := &script{tick: func(sec int, rate float64) Tick {
		if rate > 200 {
			return second(rate, rate, 190, 0, 1000)
		}
		return second(rate, rate, int64(rate), 0, 20)
	}}
	s, err := Run(context.Background(), p, prober, Options{SkipStress: true})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Capacity
	if c.SingleInstanceRPS != 200 || c.UnacceptableRPS != c.UnacceptableRate || c.UnacceptableRate <= 200 || c.UnacceptableSource != Converted || c.CappedAtUnacceptable {
		t.Fatalf("capacity %.1f req/s, unacceptable %.1f req/s (%s) at %.1f it/s: want 200 measured, and the unacceptable point the load offered", c.SingleInstanceRPS, c.UnacceptableRPS, c.UnacceptableSource, c.UnacceptableRate)
	}
	for _, st := range s.Steps {
		if st.Verdict == Unacceptable && st.Seconds == 0 {
			t.Errorf("step %d at %.0f/s is unacceptable on nothing measured: %q", st.Index, st.Rate, st.Reasons)
		}
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "the load offered: the step completed only 190 req/s") {
		t.Errorf("text does not say the unacceptable point is the load offered:\n%s", text.String())
	}
}
