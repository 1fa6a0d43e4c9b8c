package capacity

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

func TestLittlesLaw(t *testing.T) {
	if got := Concurrency(400, 25); got != 10 {
		t.Errorf("L = 400/s × 25ms = %v, want 10", got)
	}
	// N = X × (R + Z) = 50/s × (0.2 s + 1.8 s) = 100 users.
	if got := Users(50, 200, 1800); math.Abs(got-100) > 1e-9 {
		t.Errorf("N = %v, want 100", got)
	}
	l := LittleAt(Step{Throughput: 400, Latency: Latency{Mean: 25}, InFlight: 10.4}, 1000)
	if l.Concurrency != 10 || l.Users != 410 || l.InFlight != 10.4 {
		t.Errorf("%+v", l)
	}
	for _, want := range []string{"L = X × W = 10.0", "measured 10.4", "at least 10 concurrent", "N = X × (R + Z)", "= 410 users"} {
		if !strings.Contains(l.Statement, want) {
			t.Errorf("statement %q lacks %q", l.Statement, want)
		}
	}
}

func TestThinkPerRequestWeighsJourneys(t *testing.T) {
	get := plan.Step{Method: "GET", Path: "/"}
	think := func(min, max time.Duration) plan.Step { return plan.Step{Think: plan.Range{Min: min, Max: max}} }
	p := &plan.Plan{Journeys: []plan.Journey{
		// 2 requests and a 1–3 s think: 2 s per 2 requests; weight 3.
		{Weight: 3, Steps: []plan.Step{get, think(time.Second, 3*time.Second), get}},
		// 1 request, no think; weight 1.
		{Weight: 1, Steps: []plan.Step{get}},
	}}
	// (3 × 2000 ms) / (3 × 2 + 1 × 1) requests = 857.14 ms.
	if got := ThinkPerRequest(p); math.Abs(got-6000.0/7) > 1e-9 {
		t.Errorf("think per request %.2f ms, want 857.14", got)
	}
}
