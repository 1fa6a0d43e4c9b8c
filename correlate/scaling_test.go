package correlate

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// verifySteps are a verification's two steps of 10 s (2 s of warm-up):
// 150 it/s acceptable, 300 unacceptable.
func verifySteps() []capacity.Step {
	return []capacity.Step{
		{Index: 1, Phase: capacity.PhaseVerify, Rate: 150, Offered: 150, Achieved: 150, Throughput: 150, Verdict: capacity.Acceptable,
			Start: t0.Add(2 * time.Second), End: t0.Add(10 * time.Second), Seconds: 8, Elapsed: 10},
		{Index: 2, Phase: capacity.PhaseVerify, Rate: 300, Offered: 300, Achieved: 290, Throughput: 210, Verdict: capacity.Unacceptable,
			Start: t0.Add(22 * time.Second), End: t0.Add(30 * time.Second), Seconds: 8, Elapsed: 10},
	}
}

func scalingInput() ScalingInput {
	return ScalingInput{Instances: 3, SingleRPS: 100, PredictedRPS: 300, MeasuredRPS: 150, Steps: verifySteps(), MaxVUs: 500}
}

// even is three instances at rps each with latency ms and cpu cores.
func even(rps, ms, cpu float64) []InstanceLoad {
	return []InstanceLoad{
		{Instance: "127.0.0.1:18082", RPS: rps, LatencyMs: ms, CPU: cpu},
		{Instance: "127.0.0.1:18083", RPS: rps, LatencyMs: ms, CPU: cpu},
		{Instance: "127.0.0.1:18084", RPS: rps, LatencyMs: ms, CPU: cpu},
	}
}

// load is a step reading with nothing shared read.
func load(step int, rps float64, ils []InstanceLoad) StepLoad {
	nan := math.NaN()
	return StepLoad{Step: step, RPS: rps, Seconds: 8, Instances: ils,
		HostBusy: nan, HostCores: nan, DBCPU: nan, PoolWait: nan, PoolWaitS: nan, PoolSize: nan}
}

func TestDecideScalingNamesTheCause(t *testing.T) {
	withHost := func(s StepLoad, busy, cores float64) StepLoad { s.HostBusy, s.HostCores = busy, cores; return s }
	unbalanced := []InstanceLoad{
		{Instance: "127.0.0.1:18082", RPS: 105, LatencyMs: 900, CPU: 0.9},
		{Instance: "127.0.0.1:18083", RPS: 52, LatencyMs: 12, CPU: 0.4},
		{Instance: "127.0.0.1:18084", RPS: 53, LatencyMs: 12, CPU: 0.4},
	}
	cases := []struct {
		name     string
		in       func(ScalingInput) ScalingInput
		readings ScalingReadings
		cause    ScalingCause
		title    []string // each must be in the title
		rec      string   // in the recommendation
	}{
		{
			// Saturated at step 2, the busiest completes less than it is
			// sent: the share comes from the acceptable step.
			name: "busiest instance takes half",
			readings: ScalingReadings{Steps: []StepLoad{
				load(1, 150, []InstanceLoad{{Instance: "127.0.0.1:18082", RPS: 75}, {Instance: "127.0.0.1:18083", RPS: 37.5}, {Instance: "127.0.0.1:18084", RPS: 37.5}}),
				load(2, 210, []InstanceLoad{{Instance: "127.0.0.1:18082", RPS: 100}, {Instance: "127.0.0.1:18083", RPS: 55}, {Instance: "127.0.0.1:18084", RPS: 55}}),
			}},
			cause: CauseImbalance,
			title: []string{"instance 127.0.0.1:18082 received 50% of the requests", "an even split is 33%", "3 instances carried 150 req/s, 50% of the 300 predicted"},
			rec:   "100 ÷ 0.50 = 200 req/s",
		},
		{
			name: "imbalance before a saturated host",
			readings: ScalingReadings{Steps: []StepLoad{
				withHost(load(2, 210, unbalanced), 2, 2),
			}},
			cause: CauseImbalance,
			title: []string{"127.0.0.1:18082 received 50%"},
		},
		{
			name: "three instances on two busy cores",
			readings: ScalingReadings{Shared: Shared{Host: "host"}, Steps: []StepLoad{
				withHost(load(1, 150, even(50, 8, 0.5)), 1.85, 2),
				withHost(load(2, 210, even(70, 300, 0.55)), 2, 2),
			}},
			cause: CauseSharedHost,
			title: []string{"the 3 instances shared 2 cores: host CPU 92% from 150 req/s; scaling is unverified on this machine"},
			rec:   "all of its 2 cores were busy (the instances used 1.50 cores;",
		},
		{
			name: "host saturated only at the unacceptable step",
			readings: ScalingReadings{Steps: []StepLoad{
				withHost(load(1, 150, even(50, 8, 0.5)), 1.2, 2),
				withHost(load(2, 210, even(70, 300, 0.55)), 1.96, 2),
			}},
			cause: CauseSharedHost,
			title: []string{"host CPU 98% from 210 req/s"},
		},
		{
			// Over a short step the rates overshoot: the host reads 104%
			// and the instances more than the host; neither is printed.
			name: "host read above its cores",
			readings: ScalingReadings{Steps: []StepLoad{
				withHost(load(2, 210, even(70, 300, 0.4)), 1.04, 1),
			}},
			cause: CauseSharedHost,
			title: []string{"the 3 instances shared 1 core: host CPU 100% from 210 req/s"},
			rec:   "its one core was busy. Verify",
		},
		{
			name: "database CPU",
			readings: ScalingReadings{Shared: Shared{Database: "postgres"}, Steps: []StepLoad{func() StepLoad {
				s := withHost(load(2, 210, even(70, 300, 0.05)), 1.75, 2)
				s.DBCPU = 1.7
				return s
			}()}},
			cause: CauseDatabase,
			title: []string{"shared postgres: its CPU 1.70 cores (85% of the host's 2 cores) at 210 req/s"},
		},
		{
			name: "pooler waits",
			readings: ScalingReadings{Shared: Shared{Pooler: "pgbouncer"}, Steps: []StepLoad{func() StepLoad {
				s := withHost(load(2, 210, even(70, 300, 0.2)), 0.9, 2)
				s.PoolWait, s.PoolSize = 6.5, 20
				return s
			}()}},
			cause: CausePooler,
			title: []string{"shared pgbouncer: 6.5 clients waited for a server connection on average at 210 req/s (pool size 20)"},
		},
		{
			// The demo's case: waits of 0.2 ms a request at the pooler are
			// no cause; the full host is.
			name: "negligible pooler waits on a full host",
			readings: ScalingReadings{Shared: Shared{Pooler: "pgbouncer"}, Steps: []StepLoad{func() StepLoad {
				s := withHost(load(2, 210, even(70, 80, 0.35)), 1.9, 2)
				s.PoolWait, s.PoolWaitS, s.PoolSize = 0, 0.079, 20
				return s
			}()}},
			cause: CauseSharedHost,
			title: []string{"host CPU 95% from 210 req/s"},
		},
		{
			name: "pooler waits a noticeable part of each request",
			readings: ScalingReadings{Shared: Shared{Pooler: "pgbouncer"}, Steps: []StepLoad{func() StepLoad {
				s := withHost(load(2, 210, even(70, 80, 0.35)), 1.2, 2)
				s.PoolWait, s.PoolWaitS = 0.4, 6.3
				return s
			}()}},
			cause: CausePooler,
			title: []string{"30.0 ms waited per request at 210 req/s"},
		},
		{
			name: "one slow instance",
			readings: ScalingReadings{Steps: []StepLoad{
				load(2, 210, []InstanceLoad{
					{Instance: "127.0.0.1:18082", RPS: 70, LatencyMs: 10, CPU: 0.2},
					{Instance: "127.0.0.1:18083", RPS: 70, LatencyMs: 480, CPU: 0.2},
					{Instance: "127.0.0.1:18084", RPS: 70, LatencyMs: 12, CPU: 0.2},
				}),
			}},
			cause: CauseSlowInstance,
			title: []string{"instance 127.0.0.1:18083 was slow: mean latency 480.0 ms against 11.0 ms for the others"},
		},
		{
			name: "generator before everything",
			in: func(in ScalingInput) ScalingInput {
				in.Steps[1].Verdict, in.Steps[1].Dropped, in.Steps[1].Busy = capacity.GeneratorLimited, 40, 500
				return in
			},
			readings: ScalingReadings{Steps: []StepLoad{withHost(load(2, 210, unbalanced), 1.2, 2)}},
			cause:    CauseGenerator,
			title:    []string{"the generator could not offer the load", "dropped 40.0 it/s", "500 of load.max_vus 500 busy"},
			rec:      "higher load.max_vus",
		},
		{
			name: "generator behind on the saturated host it shares",
			in: func(in ScalingInput) ScalingInput {
				in.Steps[1].Verdict, in.Steps[1].Dropped = capacity.GeneratorLimited, 40
				return in
			},
			readings: ScalingReadings{Steps: []StepLoad{
				withHost(load(1, 150, even(50, 8, 0.5)), 1.2, 2),
				withHost(load(2, 210, even(70, 20, 0.55)), 1.98, 2),
			}},
			cause: CauseSharedHost,
			title: []string{"shared 2 cores: host CPU 99% from 210 req/s", "the generator, on the same host, fell behind too"},
		},
		{
			name:     "nothing explains it",
			readings: ScalingReadings{Steps: []StepLoad{withHost(load(2, 210, even(70, 20, 0.2)), 0.8, 2)}},
			cause:    CauseUnexplained,
			title:    []string{"no reading explains it"},
		},
		{
			name:  "nothing read",
			cause: CauseUnexplained,
			title: []string{"could not be read"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := scalingInput()
			if c.in != nil {
				in = c.in(in)
			}
			sc := DecideScaling(in, c.readings)
			cause, f := sc.Cause, sc.Finding
			if !strings.HasSuffix(f.Title, sc.Statement) {
				t.Errorf("title %q does not end with the statement %q", f.Title, sc.Statement)
			}
			if cause != c.cause {
				t.Errorf("cause = %s, want %s\ntitle: %s", cause, c.cause, f.Title)
			}
			if f.Kind != KindScaling {
				t.Errorf("kind = %s, want %s", f.Kind, KindScaling)
			}
			for _, want := range c.title {
				if !strings.Contains(f.Title, want) {
					t.Errorf("title lacks %q:\n%s", want, f.Title)
				}
			}
			if !strings.Contains(f.Recommendation, c.rec) {
				t.Errorf("recommendation lacks %q:\n%s", c.rec, f.Recommendation)
			}
			// A report reads the cause back out of the finding.
			f.Rank = 4
			why, ok := ScalingReasonOf([]Finding{{Kind: KindCPU, Title: "CPU: saturated"}, f})
			if !ok || why.Statement != sc.Statement || why.Explained != (cause != CauseUnexplained) || why.Rank != 4 {
				t.Errorf("ScalingReasonOf = %+v, %v; want the statement %q, explained %v, rank 4", why, ok, sc.Statement, cause != CauseUnexplained)
			}
		})
	}
}

func TestScalingReasonOfWithoutAScalingFinding(t *testing.T) {
	if why, ok := ScalingReasonOf([]Finding{{Kind: KindCPU, Title: "CPU saturated: 2 of 2 cores"}}); ok {
		t.Errorf("no scaling finding, yet a reason: %+v", why)
	}
	if _, ok := ScalingReasonOf(nil); ok {
		t.Error("no findings, yet a reason")
	}
}

func TestDecideScalingFactsCarryTheReadings(t *testing.T) {
	r := ScalingReadings{Shared: Shared{Host: "node", Database: "postgres"}, Steps: []StepLoad{
		load(1, 150, even(50, 8, 0.5)),
		func() StepLoad {
			s := load(2, 210, even(70, 300, 0.55))
			s.HostBusy, s.HostCores, s.DBCPU = 2, 2, 0.3
			return s
		}(),
	}, NotAvailable: []string{"pooler pooler_wait_time: not available: no series during the verify steps"}}
	f := DecideScaling(scalingInput(), r).Finding
	facts := strings.Join(f.Evidence.Facts, "\n")
	for _, want := range []string{
		"share of the requests over the acceptable verify steps: 127.0.0.1:18082 33%, 127.0.0.1:18083 33%, 127.0.0.1:18084 33%",
		"at step 2 (210 req/s): 127.0.0.1:18082 70.0 req/s, mean 300.0 ms, 0.55 cores",
		"host node: 2.00 of 2 cores busy (100%) at step 2",
		"database postgres: 0.30 cores of CPU at step 2",
		"pooler pooler_wait_time: not available",
	} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts lack %q:\n%s", want, facts)
		}
	}
}

func TestScalingInputOfOnlySubLinearVerifications(t *testing.T) {
	ratio := func(v float64) *float64 { return &v }
	measured := 150.0
	p := &plan.Plan{Load: plan.Load{MaxVUs: 700}}
	for _, c := range []struct {
		name  string
		ratio *float64
		want  bool
	}{
		{"not verified", nil, false},
		{"linear", ratio(0.95), false},
		{"sub-linear", ratio(0.5), true},
	} {
		s := capacity.Study{Capacity: capacity.Bounds{SingleInstanceRPS: 100},
			Prediction: capacity.Prediction{Instances: 3, PredictedRPS: 300, Ratio: c.ratio, Steps: verifySteps()}}
		if c.ratio != nil {
			s.Prediction.MeasuredRPS = &measured
		}
		in, ok := ScalingInputOf(s, p)
		if ok != c.want {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.want)
		}
		if ok && (in.MaxVUs != 700 || in.SingleRPS != 100 || len(in.Steps) != 2 || in.MeasuredRPS != 150) {
			t.Errorf("%s: input %+v", c.name, in)
		}
	}
}

// instanceProm answers the scaling reader's queries: per-instance series
// for queries grouped by instance, one series for the others, by the
// first key the query contains. It keeps every query.
type instanceProm struct {
	byInstance map[string]map[string]float64 // key → instance → value
	single     map[string]float64            // key → value
	down       bool
	queries    []string
}

func (p *instanceProm) QueryRange(_ context.Context, q string, from, to time.Time, _ time.Duration) ([]Series, error) {
	p.queries = append(p.queries, q)
	if p.down {
		return nil, errors.New("connection refused")
	}
	var out []Series
	for key, insts := range p.byInstance {
		if strings.Contains(q, key) {
			for inst, v := range insts {
				out = append(out, Series{Labels: map[string]string{"instance": inst}, Samples: []Sample{{At: to, Value: v}}})
			}
			return out, nil
		}
	}
	for key, v := range p.single {
		if strings.Contains(q, key) {
			var ss []Sample
			for at := from; !at.After(to); at = at.Add(time.Second) {
				ss = append(ss, Sample{At: at, Value: v})
			}
			return []Series{{Labels: map[string]string{}, Samples: ss}}, nil
		}
	}
	return nil, nil
}

func TestReadScalingReadsEachInstanceAndTheSharedComponents(t *testing.T) {
	p := &instanceProm{
		byInstance: map[string]map[string]float64{
			"http_request_duration_seconds_count": {"a:1": 60, "b:2": 30},
			"http_request_duration_seconds_sum":   {"a:1": 3, "b:2": 0.3},
			"process_cpu_seconds_total":           {"a:1": 0.6, "b:2": 0.3},
		},
		single: map[string]float64{
			`mode!="idle"`: 1.9, `mode="idle"`: 2,
			"namedprocess_namegroup_cpu_seconds_total":   0.4,
			"pgbouncer_pools_client_waiting_connections": 3,
		},
	}
	o := plan.Observe{Components: []plan.Component{
		{Name: "fleet", Kind: plan.KindService, Selector: `{job="shop",instance=~"a:1|b:2"}`},
		{Name: "node", Kind: plan.KindHost, Selector: `{job="node"}`},
		{Name: "postgres", Kind: plan.KindDatabase, Selector: `{job="process"}`},
		{Name: "pgbouncer", Kind: plan.KindPooler, Selector: `{job="pgbouncer"}`},
	}}
	r := ReadScaling(context.Background(), p, o, verifySteps())
	if len(r.Steps) != 2 {
		t.Fatalf("read %d steps, want 2: %v", len(r.Steps), r.NotAvailable)
	}
	s := r.Steps[1]
	if s.Step != 2 || s.RPS != 210 || s.Seconds != 8 {
		t.Errorf("step %d at %g req/s over %g s, want step 2 at 210 over 8 s (10 s trimmed by 10%% at each end)", s.Step, s.RPS, s.Seconds)
	}
	got := map[string]InstanceLoad{}
	for _, il := range s.Instances {
		got[il.Instance] = il
	}
	if a := got["a:1"]; a.RPS != 60 || a.LatencyMs != 50 || a.CPU != 0.6 {
		t.Errorf("instance a:1 = %+v, want 60 req/s, 50 ms, 0.6 cores", a)
	}
	if s.HostBusy != 1.9 || s.HostCores != 2 || s.DBCPU != 0.4 || s.PoolWait != 3 || !math.IsNaN(s.PoolWaitS) {
		t.Errorf("shared: host %g/%g, db %g, waiting %g, wait time %g; want 1.9/2, 0.4, 3, NaN", s.HostBusy, s.HostCores, s.DBCPU, s.PoolWait, s.PoolWaitS)
	}
	if r.Shared != (Shared{Host: "node", Database: "postgres", Pooler: "pgbouncer"}) {
		t.Errorf("shared names = %+v", r.Shared)
	}
	sawSelector := false
	for _, q := range p.queries {
		if strings.Contains(q, `http_request_duration_seconds_count{job="shop",instance=~"a:1|b:2"}[8s]`) && strings.Contains(q, "by (instance)") {
			sawSelector = true
		}
	}
	if !sawSelector {
		t.Errorf("no request query carried the service component's selector over the 8 s span:\n%s", strings.Join(p.queries, "\n"))
	}
	if na := strings.Join(r.NotAvailable, "\n"); !strings.Contains(na, "pooler_wait_time: not available") {
		t.Errorf("not available lacks the unread pooler wait time:\n%s", na)
	}
}

func TestReadScalingDegrades(t *testing.T) {
	down := &instanceProm{down: true}
	o := plan.Observe{Components: []plan.Component{{Name: "fleet", Kind: plan.KindService, Selector: `{job="shop"}`}}}
	r := ReadScaling(context.Background(), down, o, verifySteps())
	if len(r.Steps) != 0 || !strings.Contains(strings.Join(r.NotAvailable, " "), "scaling: not available: connection refused") {
		t.Errorf("unreachable Prometheus: %d steps, not available %q", len(r.Steps), r.NotAvailable)
	}
	if len(down.queries) != 1 {
		t.Errorf("%d queries after Prometheus was down, want it to stop at the first", len(down.queries))
	}

	r = ReadScaling(context.Background(), &instanceProm{}, plan.Observe{}, verifySteps())
	if !strings.Contains(strings.Join(r.NotAvailable, " "), "names no component of kind service") {
		t.Errorf("no service component: not available %q", r.NotAvailable)
	}
	if cause := DecideScaling(scalingInput(), r).Cause; cause != CauseUnexplained {
		t.Errorf("nothing read: cause %s, want %s", cause, CauseUnexplained)
	}
}
