package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/headroom-sre/headroom/soak"
)

// A plan with soak: holds its last target for the soak's duration and
// judges it; without observe.prometheus the service's signals are not
// available, the run's own ones (p99, error rate, Headroom's memory) are.
func TestRunWithSoakJudgesTheHold(t *testing.T) {
	srv, hits := shop(t)
	p := parsePlan(t, runPlan+"soak: { duration: 12s, warmup: 10% }\n", "BASE", srv.URL, "RATE", "10", "SECONDS", "1s")
	var phases []string
	r, err := Run(context.Background(), p, Settings{}, Hooks{OnPhase: func(ph string) { phases = append(phases, ph) }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Soak == nil {
		t.Fatal("no soak in the result")
	}
	if got := r.End.Sub(r.Start).Seconds(); got < 12 {
		t.Errorf("the run lasted %.1fs, want the 1s stage and the 12s hold", got)
	}
	if hits.Load() < 2*10*12 {
		t.Errorf("%d requests, want ≥ 240 (2 a iteration, 10/s over the hold)", hits.Load())
	}
	byName := map[string]soak.Signal{}
	for _, s := range r.Soak.Signals {
		byName[s.Name] = s
	}
	if s := byName[soak.Memory]; s.Verdict != soak.NotAvailable || s.Note == "" {
		t.Errorf("memory without Prometheus: %+v", s)
	}
	if s := byName[soak.ErrorRate]; s.Verdict != soak.Flat || s.Points < 10 {
		t.Errorf("error rate of a healthy service: %s", s.Sentence())
	}
	if r.Soak.Verdict != soak.NotAvailable || r.Outcome != Passed {
		t.Errorf("soak verdict %q, outcome %q; want not available, passed", r.Soak.Verdict, r.Outcome)
	}
	if phases[len(phases)-1] != PhaseSoak {
		t.Errorf("phases %v, want soak last", phases)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Soak struct {
			Signals []struct {
				Name         string   `json:"name"`
				Verdict      string   `json:"verdict"`
				SlopePerHour *float64 `json:"slope_per_hour"`
				CILow        *float64 `json:"ci_low"`
				CIHigh       *float64 `json:"ci_high"`
				Unit         string   `json:"unit"`
			} `json:"signals"`
		} `json:"soak"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Soak.Signals {
		if s.Name == "" || s.Verdict == "" || s.Unit == "" || s.SlopePerHour == nil || s.CILow == nil || s.CIHigh == nil {
			t.Errorf("run.json soak signal %+v lacks a field of the contract", s)
		}
	}
}

// A plan with spike: runs the spike's profile and judges its recovery.
func TestRunWithSpikeJudgesRecovery(t *testing.T) {
	srv, _ := shop(t)
	p := parsePlan(t, runPlan+"spike: { baseline: 5, factor: 3, ramp: 1s, hold: 2s, before: 3s, after: 12s }\n", "BASE", srv.URL, "RATE", "10", "SECONDS", "1s")
	r, err := Run(context.Background(), p, Settings{}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Spike == nil || r.Spike.Profile.Peak != 15 {
		t.Fatalf("spike %+v; want a 5 → 15 it/s profile", r.Spike)
	}
	if !r.Spike.Recovered || r.Spike.Requests == 0 || r.Spike.Scaling != nil || r.Outcome != Passed {
		t.Errorf("spike against a healthy service: %s (outcome %s); want recovered, no autoscaler", r.Spike.Statement, r.Outcome)
	}
}
