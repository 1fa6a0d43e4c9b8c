package capacity

import (
	"strings"
	"testing"
	"time"
)

func TestVerdict(t *testing.T) {
	slo := newJudge(objectivesOf(sloPlan(100*time.Millisecond)), 100)
	rel := newJudge(nil, 100)
	rel.baseline = &reference{P99: 30, ErrorRate: 0}
	ok := Summary{Offered: 100, Achieved: 100, Requests: 1000, Throughput: 100, Latency: Latency{P99: 50, Mean: 20}, InFlight: 2}
	with := func(f func(*Summary)) Summary { s := ok; f(&s); return s }
	cases := []struct {
		name   string
		j      judge
		s      Summary
		want   Verdict
		reason string
	}{
		{"within the SLOs", slo, ok, Acceptable, ""},
		{"p99 over the SLO", slo, with(func(s *Summary) { s.Latency.P99 = 150 }), Unacceptable, "p99"},
		{"errors over the SLO", slo, with(func(s *Summary) { s.Errors = 20 }), Unacceptable, "error_rate"},
		{"errors over half in any case", rel, with(func(s *Summary) { s.Errors = 600 }), Unacceptable, "above 50%"},
		{"generator behind with free VUs", slo, with(func(s *Summary) { s.Achieved = 80 }), GeneratorLimited, "generator could not keep up"},
		{"generator dropping with free VUs", slo, with(func(s *Summary) { s.Iterations, s.Dropped = 980, 20 }), GeneratorLimited, "dropped"},
		{"max_vus reached while SLOs hold", slo, with(func(s *Summary) { s.Iterations, s.Dropped, s.Busy = 900, 100, 95 }), GeneratorLimited, "raise load.max_vus"},
		{"SUT holding every VU and breaking the SLO", slo, with(func(s *Summary) {
			s.Iterations, s.Dropped, s.Busy, s.Latency.P99 = 900, 100, 95, 900
		}), Unacceptable, "held the generator's virtual users"},
		// Busy virtual users decide, not requests in flight: 95 users busy
		// (mostly thinking) with 5 requests in flight is max_vus held.
		{"VUs busy thinking, few requests in flight", slo, with(func(s *Summary) {
			s.Iterations, s.Dropped, s.Busy, s.InFlight = 900, 100, 95, 5
		}), GeneratorLimited, "raise load.max_vus"},
		{"many requests in flight but free VUs", slo, with(func(s *Summary) {
			s.Iterations, s.Dropped, s.Busy, s.InFlight = 900, 100, 40, 95
		}), GeneratorLimited, "generator could not keep up"},
		{"relative: p99 within double", rel, with(func(s *Summary) { s.Latency.P99 = 59 }), Acceptable, ""},
		{"relative: p99 doubled", rel, with(func(s *Summary) { s.Latency.P99 = 61 }), Unacceptable, "more than doubled"},
		{"relative: first errors over the floor", rel, with(func(s *Summary) { s.Errors = 2 }), Unacceptable, "error rate"},
		{"relative: one error in a thousand is noise", rel, with(func(s *Summary) { s.Errors = 1 }), Acceptable, ""},
		{"nothing completed", slo, with(func(s *Summary) { s.Requests = 0 }), Unacceptable, "no request completed"},
		// A split schedule's measured second holds 19 of 20 iterations:
		// one whole iteration short is where the span cut, not a limit.
		{"one iteration short in one second", slo, with(func(s *Summary) { s.Seconds, s.Offered, s.Achieved = 1, 20, 19 }), Acceptable, ""},
		{"two iterations short in one second", slo, with(func(s *Summary) { s.Seconds, s.Offered, s.Achieved = 1, 20, 18 }), GeneratorLimited, "generator could not keep up"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, reasons := c.j.verdict(c.s)
			if v != c.want {
				t.Fatalf("verdict %s (%q), want %s", v, reasons, c.want)
			}
			if !strings.Contains(strings.Join(reasons, "; "), c.reason) {
				t.Errorf("reasons %q do not mention %q", reasons, c.reason)
			}
		})
	}
}

// The demo's step 6: 320 it/s offered, 489 req/s completed at p95 1,512 ms
// and p99 1,994 ms against SLOs of 200 and 400 ms, 9% of iterations
// dropped, about 1,000 virtual users busy (max_vus 1000, journeys with
// 1–3 s of think time) but only 330 requests in flight, after the step
// at 160 it/s held its SLOs at 376 req/s.
func TestVerdictDemoStep6IsUnacceptable(t *testing.T) {
	p := sloPlan(400 * time.Millisecond)
	p.SLO.P95 = 200 * time.Millisecond
	step6 := Summary{
		Seconds: 24, Offered: 320, Achieved: 291, Iterations: 6984, Dropped: 691,
		Requests: 11736, Throughput: 489, InFlight: 330, Busy: 990,
		Latency: Latency{P50: 700, P90: 1300, P95: 1512, P99: 1994, Max: 2600, Mean: 680},
	}
	for _, c := range []struct {
		name string
		busy float64
		want string
	}{
		{"VUs at the cap", 990, "held the generator's virtual users"},
		// Even with VUs to spare, the SLOs broke above 376 req/s.
		{"VUs to spare", 500, "above the last acceptable step's 376.0 req/s and 160.0 it/s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := newJudge(objectivesOf(p), 1000)
			j.low, j.lowAchieved = 376, 160
			s := step6
			s.Busy = c.busy
			v, reasons := j.verdict(s)
			all := strings.Join(reasons, "; ")
			if v != Unacceptable {
				t.Fatalf("verdict %s (%s), want unacceptable", v, all)
			}
			for _, want := range []string{"p95", "p99", c.want, "9.0% of iterations dropped"} {
				if !strings.Contains(all, want) {
					t.Errorf("reasons %q lack %q: they must say both the SLO broken and what the generator dropped", all, want)
				}
			}
		})
	}
}

// A step that broke its SLOs while the generator fell behind is the
// generator's only when it completed no more than the last acceptable step.
func TestVerdictGeneratorLimitedOnlyAtOrBelowTheLowEnd(t *testing.T) {
	j := newJudge(objectivesOf(sloPlan(100*time.Millisecond)), 1000)
	behind := Summary{Seconds: 8, Offered: 600, Achieved: 290, Iterations: 2320, Dropped: 2480, Requests: 2320, Throughput: 290, Busy: 50,
		Latency: Latency{P50: 900, P90: 900, P95: 900, P99: 900, Max: 900, Mean: 900}}
	for _, c := range []struct {
		low, lowAchieved float64
		want             Verdict
	}{{0, 0, Unacceptable}, {280, 280, Unacceptable}, {290, 290, GeneratorLimited}, {300, 300, GeneratorLimited},
		// More iterations started than at the low end, fewer requests
		// completed (a ramp's first seconds): above the low end.
		{300, 250, Unacceptable}} {
		j.low, j.lowAchieved = c.low, c.lowAchieved
		if v, reasons := j.verdict(behind); v != c.want {
			t.Errorf("low end %.0f req/s, step at 290 req/s: %s (%q), want %s", c.low, v, reasons, c.want)
		}
	}
}

func TestClearlyBadNeedsAWideMargin(t *testing.T) {
	j := newJudge(objectivesOf(sloPlan(100*time.Millisecond)), 0)
	tick := func(p99 float64, errs int64) Tick {
		return Tick{Offered: 100, Requests: 100, Errors: errs, Latency: Latency{P99: p99}}
	}
	cases := []struct {
		t   Tick
		bad bool
	}{
		{tick(150, 0), false}, // over the SLO, but not clearly
		{tick(201, 0), true},  // twice the SLO
		{tick(50, 4), false},  // 4% errors against 1%
		{tick(50, 7), true},   // 7%: past limit + 5 points
		{Tick{Offered: 100, InFlight: 50}, true},
	}
	for i, c := range cases {
		if bad, why := j.clearlyBad(c.t); bad != c.bad {
			t.Errorf("case %d: clearlyBad = %v (%s), want %v", i, bad, why, c.bad)
		}
	}
}

// A step stopped by seconds clearly past its SLOs, with the generator
// behind in them, is the generator's only at or below the last acceptable
// step's throughput (rule 1 on an early stop).
func TestStoppedBehindIsUnacceptableAboveTheLowEnd(t *testing.T) {
	j := newJudge(objectivesOf(sloPlan(100*time.Millisecond)), 1000)
	j.low, j.lowAchieved = 300, 300
	measured := Summary{Seconds: 3, Elapsed: 5 * time.Second, Throughput: 500, Achieved: 250, Requests: 1500, Latency: Latency{P99: 90}}
	si := stopInfo{why: "p99 < 100ms: 450.0ms in one second", generatorBehind: true, behindWhy: "achieved 250.0/s of 600.0/s offered"}
	v, reasons := j.stopped(measured, Acceptable, nil, si)
	if all := strings.Join(reasons, "; "); v != Unacceptable || !strings.Contains(all, "above the last acceptable step's 300.0 req/s") || !strings.Contains(all, "achieved 250.0/s of 600.0/s") {
		t.Errorf("above the low end: %s %q, want unacceptable saying both", v, reasons)
	}
	measured.Throughput = 280
	if v, reasons := j.stopped(measured, Acceptable, nil, si); v != GeneratorLimited {
		t.Errorf("at or below the low end: %s %q, want generator-limited", v, reasons)
	}
}
