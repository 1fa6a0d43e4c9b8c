package plan

import (
	"math"
	"testing"
)

// TestObjectiveValueReadsEachKind proves each kind of objective reads its
// own statistic from a measurement, and that nothing measured never holds.
func TestObjectiveValueReadsEachKind(t *testing.T) {
	src := minimal + `thresholds:
  - http_req_duration: ["p(99.9)<400ms", avg<150, min<2, med<=80ms, max<3s]
  - http_reqs: [rate>=20, count>100]
slo: { p95: 200ms, error_rate: 1% }
`
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	asked := map[string]float64{}
	m := Measurement{Requests: 200, Errors: 3, Seconds: 4, Latency: func(stat string, q float64) float64 {
		switch stat {
		case "avg":
			return 20
		case "min":
			return 1
		case "max":
			return 900
		}
		asked[stat] = q
		return q // the percentile itself, in ms
	}}
	want := map[string]float64{
		"p95": 95, "error_rate": 0.015, "p(99.9)": 99.9, "avg": 20, "min": 1, "med": 50, "max": 900,
		"throughput": 50, "count": 200,
	}
	checks := CheckAll(p.Objectives(), m)
	if len(checks) != len(want) {
		t.Fatalf("%d checks, want %d", len(checks), len(want))
	}
	for _, c := range checks {
		w, ok := want[c.Objective.Name]
		if !ok || math.Abs(c.Value-w) > 1e-9 {
			t.Errorf("%s: value %g, want %g", c.Objective.Name, c.Value, w)
		}
		if c.Pass != c.Objective.Holds(w) {
			t.Errorf("%s: pass %v for %g %s", c.Objective.Name, c.Pass, w, c.Objective.Threshold)
		}
	}
	if asked["p99.9"] != 99.9 || asked["p50"] != 50 {
		t.Errorf("percentiles asked %v, want p99.9 at 99.9 and p50 at 50", asked)
	}

	for _, c := range CheckAll(p.Objectives(), Measurement{}) {
		if c.Objective.Kind == RequestCount {
			if c.Value != 0 || c.Pass {
				t.Errorf("count of nothing: %g, pass %v", c.Value, c.Pass)
			}
			continue
		}
		if !math.IsNaN(c.Value) || c.Pass {
			t.Errorf("%s of nothing: %g, pass %v; want NaN, not held", c.Objective.Name, c.Value, c.Pass)
		}
	}
}

func TestObjectiveUnitAndFormat(t *testing.T) {
	tests := []struct {
		o          Objective
		v          float64
		unit, text string
	}{
		{Objective{Kind: Latency}, 412, "ms", "412.0ms"},
		{Objective{Kind: ErrorRate}, 0.0125, "ratio", "1.25%"},
		{Objective{Kind: Throughput}, 48.25, "req/s", "48.2/s"},
		{Objective{Kind: RequestCount}, 1200, "requests", "1200"},
		{Objective{Kind: Latency}, math.NaN(), "ms", "nothing"},
	}
	for _, tt := range tests {
		if u, s := tt.o.Unit(), tt.o.Format(tt.v); u != tt.unit || s != tt.text {
			t.Errorf("%v %g: %q %q, want %q %q", tt.o.Kind, tt.v, u, s, tt.unit, tt.text)
		}
	}
}
