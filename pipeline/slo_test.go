package pipeline

import (
	"math"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
)

func TestEvaluateChecksARunsObjectives(t *testing.T) {
	p := parsePlan(t, runPlan, "BASE", "http://127.0.0.1:1", "RATE", "1", "SECONDS", "1s")
	p.SLO.MinThroughput = 5
	h := generator.NewHistogram()
	for ms := int64(1); ms <= 100; ms++ {
		_ = h.RecordValue(ms * 1000)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	res := &generator.Result{Start: start, End: start.Add(10 * time.Second), Hist: h,
		Summary: generator.Summary{Requests: 100, Errors: 2}}
	got := Evaluate(p.Objectives(), res)
	want := []struct {
		name string
		v    float64
		unit string
		pass bool
	}{{"p95", 95, "ms", true}, {"error_rate", 0.02, "ratio", false}, {"min_throughput", 10, "req/s", true}}
	if len(got) != len(want) {
		t.Fatalf("%+v, want %d results", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || math.Abs(g.Value-w.v) > w.v*0.001 || g.Unit != w.unit || g.Pass != w.pass || g.Note != "" {
			t.Errorf("result %d: %+v, want %s %g %s pass=%v", i, g, w.name, w.v, w.unit, w.pass)
		}
	}
	if AllPass(got) {
		t.Error("AllPass with a failed objective")
	}

	empty := Evaluate(p.Objectives(), &generator.Result{Start: start, End: start})
	for _, r := range empty {
		if r.Pass || r.Note == "" || r.Value != 0 {
			t.Errorf("%+v: nothing measured must fail with a note", r)
		}
	}
	if !AllPass(Evaluate(nil, res)) {
		t.Error("no objectives: all pass")
	}
}
