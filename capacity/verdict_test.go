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
		{"max_vus reached while SLOs hold", slo, with(func(s *Summary) { s.Iterations, s.Dropped, s.InFlight = 900, 100, 95 }), GeneratorLimited, "raise load.max_vus"},
		{"SUT holding every VU and breaking the SLO", slo, with(func(s *Summary) {
			s.Iterations, s.Dropped, s.InFlight, s.Latency.P99 = 900, 100, 95, 900
		}), Unacceptable, "held the generator's virtual users"},
		{"relative: p99 within double", rel, with(func(s *Summary) { s.Latency.P99 = 59 }), Acceptable, ""},
		{"relative: p99 doubled", rel, with(func(s *Summary) { s.Latency.P99 = 61 }), Unacceptable, "more than doubled"},
		{"relative: first errors over the floor", rel, with(func(s *Summary) { s.Errors = 2 }), Unacceptable, "error rate"},
		{"relative: one error in a thousand is noise", rel, with(func(s *Summary) { s.Errors = 1 }), Acceptable, ""},
		{"nothing completed", slo, with(func(s *Summary) { s.Requests = 0 }), Unacceptable, "no request completed"},
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
