package plan

import (
	"math"
	"reflect"
	"testing"
)

// TestObjectivesOrderAndForm proves that the slo section comes first in
// its fixed order, then the thresholds in file order, duplicates kept.
func TestObjectivesOrderAndForm(t *testing.T) {
	src := minimal + `thresholds:
  - http_req_duration: ["p(99)<400ms", avg<150, med<=80ms]
  - http_req_failed: rate<0.02
  - http_reqs: [rate>=20, count>100]
  - http_req_duration: max<3s
slo: { min_throughput: 50/s, error_rate: 1%, max: 2s, p99: 400ms, p95: 200ms, p50: 1500us }
`
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Objective{
		{Name: "p50", Threshold: "< 1.5ms", Kind: Latency, Stat: "p50", Quantile: 50, Op: "<", Limit: 1.5},
		{Name: "p95", Threshold: "< 200ms", Kind: Latency, Stat: "p95", Quantile: 95, Op: "<", Limit: 200},
		{Name: "p99", Threshold: "< 400ms", Kind: Latency, Stat: "p99", Quantile: 99, Op: "<", Limit: 400},
		{Name: "max", Threshold: "< 2s", Kind: Latency, Stat: "max", Quantile: 100, Op: "<", Limit: 2000},
		{Name: "error_rate", Threshold: "< 1%", Kind: ErrorRate, Stat: "rate", Op: "<", Limit: 0.01},
		{Name: "min_throughput", Threshold: ">= 50/s", Kind: Throughput, Stat: "rate", Op: ">=", Limit: 50},
		{Name: "p(99)", Threshold: "< 400ms", Kind: Latency, Stat: "p99", Quantile: 99, Op: "<", Limit: 400},
		{Name: "avg", Threshold: "< 150ms", Kind: Latency, Stat: "avg", Op: "<", Limit: 150},
		{Name: "med", Threshold: "<= 80ms", Kind: Latency, Stat: "p50", Quantile: 50, Op: "<=", Limit: 80},
		{Name: "error_rate", Threshold: "< 2%", Kind: ErrorRate, Stat: "rate", Op: "<", Limit: 0.02},
		{Name: "throughput", Threshold: ">= 20/s", Kind: Throughput, Stat: "rate", Op: ">=", Limit: 20},
		{Name: "count", Threshold: "> 100", Kind: RequestCount, Stat: "count", Op: ">", Limit: 100},
		{Name: "max", Threshold: "< 3s", Kind: Latency, Stat: "max", Quantile: 100, Op: "<", Limit: 3000},
	}
	got := p.Objectives()
	if len(got) != len(want) {
		t.Fatalf("got %d objectives, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("objective %d\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

// TestObjectivesEmpty proves that a plan without slo or thresholds has no
// objectives (the capacity engine then compares against the baseline).
func TestObjectivesEmpty(t *testing.T) {
	p, err := Parse("plan.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Objectives(); len(got) != 0 {
		t.Errorf("Objectives() = %+v, want none", got)
	}
}

// TestObjectiveHolds proves each operator at, below and above its limit.
func TestObjectiveHolds(t *testing.T) {
	cases := []struct {
		op                    string
		below, at, above, nan bool
	}{
		{"<", true, false, false, false},
		{"<=", true, true, false, false},
		{">", false, false, true, false},
		{">=", false, true, true, false},
		{"==", false, false, false, false},
	}
	for _, c := range cases {
		o := Objective{Op: c.op, Limit: 10}
		got := []bool{o.Holds(9.99), o.Holds(10), o.Holds(10.01), o.Holds(math.NaN())}
		want := []bool{c.below, c.at, c.above, c.nan}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("op %q: Holds(below, at, above, NaN) = %v, want %v", c.op, got, want)
		}
	}
}

// TestObjectiveKindString names each kind.
func TestObjectiveKindString(t *testing.T) {
	got := []string{Latency.String(), ErrorRate.String(), Throughput.String(), RequestCount.String(), ObjectiveKind(0).String()}
	want := []string{"latency", "error rate", "throughput", "request count", "ObjectiveKind(0)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
