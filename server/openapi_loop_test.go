package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/soak"
)

// TestOpenAPIResultLoop checks that run.json's soak and spike and
// study.json's assess, as the Go types encode them, match the document's
// Soak, Spike and Assessment (the loop page is typed from them), with every
// optional field set and with none, and that the document refuses a part
// the Go code never sends.
func TestOpenAPIResultLoop(t *testing.T) {
	start := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	// A real analysis: Headroom's own memory growing over an hour, no Prometheus.
	var self []soak.Point
	for i := range 60 {
		self = append(self, soak.Point{T: start.Add(time.Duration(i) * time.Minute), V: float64(100<<20 + i*(1<<20))})
	}
	analyzed := soak.Analyze(context.Background(), soak.Input{From: start, To: start.Add(time.Hour), Target: 50, Self: self, SelfHeap: self})
	if len(analyzed.Signals) == 0 {
		t.Fatal("soak.Analyze returned no signals")
	}
	full := soak.Result{From: start, To: start.Add(time.Hour), Target: 50, Verdict: soak.Leak, Prometheus: "http://127.0.0.1:9090", Note: "n",
		Signals: []soak.Signal{{Name: soak.Memory, Title: "memory", Unit: "bytes", Verdict: soak.Leak, SlopePerHour: 1, CILow: 0.5, CIHigh: 2,
			Level: 3, Growth: 1, Threshold: 0.5, Limit: 10, HoursToLimit: 7, Points: 60, Query: "q", Note: "n", Resource: true,
			LastHalf: 1, Samples: self[:2]}}}

	one, lag := 3, 4.0
	reaction := &capacity.ScaleReaction{Before: 1, Most: 3, MostDesired: 4, DecidedS: &lag, ServingS: &lag, Note: "n",
		Samples: []capacity.ReplicaSample{{At: start, Desired: 2, Serving: 1}}}
	profile := capacity.SpikeProfile{Baseline: 10, Peak: 100, Before: time.Minute, Ramp: time.Second, Hold: time.Minute, After: time.Minute}
	spikes := map[string]capacity.Spike{
		"spike, recovered": {Profile: profile, BaselineP99: 12, WorstP99: 300, Requests: 5000, Errors: 3, ErrorRate: 0.0006,
			Throughput: 99, Criterion: "c", Recovered: true, RecoveryS: &one, LastMiss: "m", Scaling: reaction, Verdict: "recovered", Statement: "s"},
		"spike, not recovered": {Profile: profile, Criterion: "c", Verdict: "did not recover", Statement: "s"},
	}
	input := capacity.AssessInput{URL: "http://127.0.0.1:1", From: 10, To: 100, Ramp: time.Minute, Hold: time.Second,
		ThresholdRPS: 40, UnacceptableRPS: 60, MaxInstances: 4}
	assessments := map[string]capacity.Assessment{
		"assess, failed": {Input: input, Criterion: "c", Seconds: 90, Misses: []capacity.Miss{{AtS: 3, Offered: 40, Serving: 1, Why: "p99"}},
			MissCount: 1, Crossings: []capacity.Crossing{{AtS: 2, Offered: 40, Serving: 1, LagS: &lag}, {AtS: 9, Offered: 80, Serving: 2}},
			MaxLagS: 4, MostServing: 3, MaxInstances: 4, GrowthRPS: 1.5, Scaling: reaction,
			Corrected: &capacity.Correction{ThresholdRPS: 30, AutoscaleAt: 0.5, Reason: "r"}, Verdict: "failed", Statement: "s", Arithmetic: []string{"a"}},
		"assess, passed": {Input: input, Held: true, Misses: []capacity.Miss{}, Crossings: []capacity.Crossing{}, Verdict: "passed", Arithmetic: []string{"a"}},
	}

	docs := map[string]any{
		"soak, analyzed": pipeline.RunResult{Kind: pipeline.KindRun, Outcome: pipeline.Passed, Soak: &analyzed},
		"soak, full":     pipeline.RunResult{Kind: pipeline.KindRun, Outcome: pipeline.Failed, Soak: &full},
	}
	for name, s := range spikes {
		docs[name] = pipeline.RunResult{Kind: pipeline.KindRun, Outcome: pipeline.Passed, Spike: &s}
	}
	for name, a := range assessments {
		docs[name] = pipeline.StudyResult{Kind: pipeline.KindStudy, Outcome: pipeline.Passed, Assess: &a}
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/jobs/1/result", nil)
	header := http.Header{"Content-Type": []string{"application/json"}}
	for name, doc := range docs {
		body, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := checkResponse(req, http.StatusOK, header, body); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// What the Go code never sends, the document refuses.
	for name, body := range map[string]string{
		"a soak verdict it has not":  `{"kind":"run","outcome":"passed","soak":{"from":"2026-12-07T01:00:00Z","to":"2026-12-07T02:00:00Z","target":1,"verdict":"maybe","signals":[]}}`,
		"a spike without recovery_s": `{"kind":"run","outcome":"passed","spike":{"profile":{"baseline":1,"peak":2,"before_ns":1,"ramp_ns":1,"hold_ns":1,"after_ns":1},"baseline_p99_ms":1,"worst_second_p99_ms":1,"requests":1,"errors":0,"error_rate":0,"throughput_rps":1,"criterion":"c","recovered":false,"verdict":"did not recover","statement":"s"}}`,
		"an assessment without arithmetic": strings.Replace(mustJSON(t, pipeline.StudyResult{Kind: pipeline.KindStudy, Outcome: pipeline.Passed, Assess: &capacity.Assessment{Input: input,
			Misses: []capacity.Miss{}, Crossings: []capacity.Crossing{}, Verdict: "passed", Arithmetic: []string{"a"}}}), `,"arithmetic":["a"]`, "", 1),
	} {
		if err := checkResponse(req, http.StatusOK, header, []byte(body)); err == nil {
			t.Errorf("%s: passed validation: %s", name, body)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
