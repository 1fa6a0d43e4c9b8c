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
