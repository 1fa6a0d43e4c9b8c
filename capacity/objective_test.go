package capacity

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom-sre/headroom/plan"
)

// objectivePlan has one objective of every kind the plan language has.
func objectivePlan(t *testing.T) *plan.Plan {
	t.Helper()
	src := `version: 1
target:
  base_url: http://127.0.0.1:1
load:
  stages:
    - { duration: 10s, target: 5 }
journeys:
  - name: browse
    steps:
      - get: /
thresholds:
  - http_req_duration: ["p(99.9)<400ms", min<2, avg<150]
  - http_reqs: [rate>=20, count>100]
slo: { p99: 100ms, error_rate: 1%, min_throughput: 1000/s }
`
	p, err := plan.Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestObjectivesAreThePlansOwn proves capacity judges by the plan's own
// objectives: every one but a latency minimum and request counts, and a
// step or a second by latency and error rate alone (throughput left out).
func TestObjectivesAreThePlansOwn(t *testing.T) {
	p := objectivePlan(t)
	var names []string
	for _, o := range objectivesOf(p) {
		names = append(names, o.Name)
	}
	if got, want := strings.Join(names, " "), "p99 error_rate min_throughput p(99.9) avg throughput"; got != want {
		t.Errorf("objectives %q, want %q", got, want)
	}
	names = nil
	for _, o := range newJudge(objectivesOf(p), 0).objectives {
		names = append(names, o.Name)
	}
	if got, want := strings.Join(names, " "), "p99 error_rate p(99.9) avg"; got != want {
		t.Errorf("judged per step %q, want %q", got, want)
	}
}

// TestJudgeReadsTheSharedEvaluator proves a step and a second are judged
// by plan.Objective.Value: the same values, the same passes, the step's
// percentiles from its histogram, and a low rate never failing a
// throughput objective it is not judged by.
func TestJudgeReadsTheSharedEvaluator(t *testing.T) {
	p := objectivePlan(t)
	j := newJudge(objectivesOf(p), 0)
	h := hdrhistogram.New(1, 60_000_000, 3)
	for i := int64(1); i <= 1000; i++ {
		_ = h.RecordValue(i * 100) // 0.1 … 100 ms
	}
	s := Summary{Seconds: 10, Offered: 10, Achieved: 10, Requests: 1000, Errors: 5, Throughput: 100, Iterations: 1000,
		Latency: Latency{P99: 99, Max: 100, Mean: 50}, Hist: h}
	m := measurementOf(s)
	for _, c := range plan.CheckAll(j.objectives, m) {
		want := map[string]float64{"p99": 99, "error_rate": 0.005, "p(99.9)": 99.9, "avg": 50}[c.Objective.Name]
		if math.Abs(c.Value-want) > 0.1 {
			t.Errorf("%s = %g, want %g (from the histogram)", c.Objective.Name, c.Value, want)
		}
	}
	if v, reasons := j.verdict(s); v != Acceptable {
		t.Errorf("a step within latency and errors at 100 of min_throughput 1000/s: %s %q, want acceptable", v, reasons)
	}
	s.Errors = 20
	if v, reasons := j.verdict(s); v != Unacceptable || !strings.Contains(strings.Join(reasons, ";"), "error_rate < 1%: measured 2.00%, limit < 1.00%") {
		t.Errorf("2%% errors: %s %q, want unacceptable naming error_rate", v, reasons)
	}

	slow := Tick{Offered: 10, Achieved: 10, Requests: 3, Latency: Latency{P99: 20, Max: 30, Mean: 10}}
	if ok, why := j.withinSLOs(slow); !ok {
		t.Errorf("a second of 3 requests within latency and errors is not back (%s); throughput is not judged per second", why)
	}
	slow.Latency.Max = 500 // p(99.9) reads the maximum from a second's stored quantiles
	if ok, why := j.withinSLOs(slow); ok || !strings.HasPrefix(why, "p(99.9) < 400ms: 500.0ms") {
		t.Errorf("a second with p(99.9) 500ms: back=%v (%s), want not back naming p(99.9)", ok, why)
	}
}

// TestSecondsWithNoRequests proves what a second without a completed
// request means: every objective reads NaN in the shared evaluator (so
// none holds), it is never back within the SLOs, and it is clearly bad
// only while iterations are offered and in flight.
func TestSecondsWithNoRequests(t *testing.T) {
	j := newJudge(objectivesOf(sloPlan(100*time.Millisecond)), 0)
	empty := Tick{Offered: 100}
	for _, c := range plan.CheckAll(j.objectives, tickMeasurement(empty)) {
		if !math.IsNaN(c.Value) || c.Pass {
			t.Errorf("%s over an empty second: %g pass=%v, want NaN, not held", c.Objective.Name, c.Value, c.Pass)
		}
	}
	if ok, why := j.withinSLOs(empty); ok || why != "no request completed" {
		t.Errorf("empty second back=%v (%s), want not back: no request completed", ok, why)
	}
	if bad, _ := j.clearlyBad(empty); bad {
		t.Error("an empty second with nothing in flight is clearly bad; want not (nothing was sent yet)")
	}
	if bad, why := j.clearlyBad(Tick{Offered: 100, InFlight: 5}); !bad || why != "no request completed in a second" {
		t.Errorf("an empty second with requests in flight: bad=%v (%s), want clearly bad", bad, why)
	}
}
