package correlate_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/plan"
)

// cpuProm is a fake Prometheus for the gauge. The process's CPU counter
// grows at usage(t) cores, so rate(…[Ns]) evaluated at t is the mean of
// usage over (t-N s, t]; go_sched_gomaxprocs_threads is cores, one series
// per instance (none when cores is 0). Every query is kept.
type cpuProm struct {
	cpuMetric string // the counter's name; default process_cpu_seconds_total
	usage     func(time.Time) float64
	cores     float64
	instances []string

	mu      sync.Mutex
	queries []string
}

var rangeRE = regexp.MustCompile(`\[(\d+)s\]`)

func newCPUProm(t *testing.T, f *cpuProm) *httptest.Server {
	if f.cpuMetric == "" {
		f.cpuMetric = "process_cpu_seconds_total"
	}
	if len(f.instances) == 0 {
		f.instances = []string{"127.0.0.1:18081"}
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *cpuProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query_range" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	q := r.Form.Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
	at := time.Unix(0, int64(end*1e9))
	var series []string
	value := func(labels string, v float64) string {
		return fmt.Sprintf(`{"metric":{%s},"values":[[%s,"%s"]]}`, labels,
			strconv.FormatFloat(end, 'f', -1, 64), strconv.FormatFloat(v, 'g', -1, 64))
	}
	switch {
	case strings.Contains(q, "go_sched_gomaxprocs_threads") && f.cores > 0:
		for _, in := range f.instances {
			series = append(series, value(fmt.Sprintf(`"job":"shop","instance":%q`, in), f.cores))
		}
	case strings.Contains(q, f.cpuMetric) && f.usage != nil:
		m := rangeRE.FindStringSubmatch(q)
		if m == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"no range"}`)
			return
		}
		secs, _ := strconv.Atoi(m[1])
		series = append(series, value("", meanUsage(f.usage, at.Add(-time.Duration(secs)*time.Second), at)))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, strings.Join(series, ","))
}

func (f *cpuProm) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// meanUsage integrates usage over (from, to] in 10 ms slices.
func meanUsage(usage func(time.Time) float64, from, to time.Time) float64 {
	const slice = 10 * time.Millisecond
	sum, n := 0.0, 0
	for t := from.Add(slice / 2); t.Before(to); t = t.Add(slice) {
		sum += usage(t)
		n++
	}
	return sum / float64(n)
}

// timeline is the CPU an instance used while a study's steps ran.
type timeline struct {
	steps []capacity.Step
	cores map[int]float64 // step index → cores used in its measured part
}

// usage is the step's level inside its measured part, except 4 cores in
// its first and last 500 ms (ramp-up and ramp-down, which trimming must
// keep out), and 0.05 cores between steps.
func (tl timeline) usage(t time.Time) float64 {
	for _, st := range tl.steps {
		if t.Before(st.Start) || !t.Before(st.End) {
			continue
		}
		if t.Sub(st.Start) < 500*time.Millisecond || st.End.Sub(t) <= 500*time.Millisecond {
			return 4
		}
		return tl.cores[st.Index]
	}
	return 0.05
}

// studySteps are 10-second steps at the given rates, 5 s apart, with the
// verdicts given (acceptable when verdicts is short), using cpu(rps) cores.
func studySteps(rates []float64, verdicts []capacity.Verdict, cpu func(float64) float64) timeline {
	tl := timeline{cores: map[int]float64{}}
	at := t0
	for i, r := range rates {
		v := capacity.Acceptable
		if i < len(verdicts) {
			v = verdicts[i]
		}
		st := capacity.Step{Index: i + 1, Rate: r, Throughput: r, Start: at, End: at.Add(10 * time.Second), Verdict: v}
		tl.steps = append(tl.steps, st)
		tl.cores[st.Index] = cpu(r)
		at = st.End.Add(5 * time.Second)
	}
	return tl
}

var t0 = time.Unix(1_700_000_000, 0).UTC()

func linearCPU(rps float64) float64 { return 0.1 + 0.002*rps }

func gauge(t *testing.T, o plan.Observe) *correlate.CPUGauge {
	t.Helper()
	g, err := correlate.NewCPUGauge(o, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCPUGaugeInterpolatesBetweenAcceptableSteps proves the gauge reads
// each acceptable step's CPU over its trimmed span (the 4-core ramps at
// the edges would shift every figure), ignores unacceptable steps,
// interpolates linearly, extrapolates a little and says so, and refuses
// rates far outside the steps.
func TestCPUGaugeInterpolatesBetweenAcceptableSteps(t *testing.T) {
	// The unacceptable step at 300 req/s used 3 cores: read, it would
	// spoil the answer at 300.
	tl := studySteps([]float64{100, 200, 300, 400}, []capacity.Verdict{capacity.Acceptable, capacity.Acceptable, capacity.Unacceptable}, linearCPU)
	tl.cores[3] = 3
	srv := newCPUProm(t, &cpuProm{usage: tl.usage, cores: 2})
	g := gauge(t, plan.Observe{Prometheus: srv.URL})

	cases := []struct {
		rps      float64
		fraction float64 // of 2 cores
		note     string  // substring; "" = no note
		err      string  // substring; "" = no error
	}{
		{rps: 200, fraction: linearCPU(200) / 2},
		{rps: 300, fraction: linearCPU(300) / 2},
		{rps: 150, fraction: linearCPU(150) / 2},
		{rps: 440, fraction: linearCPU(440) / 2, note: "extrapolated 10% above the highest step with CPU (400.0 req/s)"},
		{rps: 90, fraction: linearCPU(90) / 2, note: "extrapolated 10% below the lowest step with CPU (100.0 req/s)"},
		{rps: 600, err: "50% above the highest acceptable step with CPU (400.0 req/s), too far to extrapolate"},
		{rps: 20, err: "80% below the lowest acceptable step with CPU (100.0 req/s), too far to extrapolate"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.rps), func(t *testing.T) {
			r, err := g.CPUFromSteps(context.Background(), tl.steps, c.rps)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Fraction-c.fraction) > 1e-6 || r.Cores != 2 {
				t.Errorf("got %.6f of %g cores, want %.6f of 2", r.Fraction, r.Cores, c.fraction)
			}
			if (c.note == "") != (r.Note == "") || !strings.Contains(r.Note, c.note) {
				t.Errorf("note %q, want %q", r.Note, c.note)
			}
		})
	}
}

// TestCPUGaugeInjectsTheSelector proves both queries name the instance
// under study and that a plan's cpu_usage override is what is asked.
func TestCPUGaugeInjectsTheSelector(t *testing.T) {
	tl := studySteps([]float64{50, 100}, nil, linearCPU)
	f := &cpuProm{cpuMetric: "container_cpu_usage_seconds_total", usage: tl.usage, cores: 4}
	srv := newCPUProm(t, f)
	g := gauge(t, plan.Observe{
		Prometheus: srv.URL, Selector: `{job="shop", instance="127.0.0.1:18081"}`,
		Signals: map[string]string{"cpu_usage": `sum(rate(container_cpu_usage_seconds_total{container="shop"}[$rate]))`},
	})
	g.Steps = tl.steps
	got, err := g.CPUAt(context.Background(), 75)
	if err != nil {
		t.Fatal(err)
	}
	if want := linearCPU(75) / 4; math.Abs(got-want) > 1e-6 {
		t.Errorf("CPUAt(75) = %.6f, want %.6f", got, want)
	}
	want := []string{
		`sum(rate(container_cpu_usage_seconds_total{container="shop",job="shop",instance="127.0.0.1:18081"}[8s]))`,
		`go_sched_gomaxprocs_threads{job="shop",instance="127.0.0.1:18081"}`,
	}
	seen := strings.Join(f.seen(), "\n")
	for _, q := range want {
		if !strings.Contains(seen, q) {
			t.Errorf("no query %s among:\n%s", q, seen)
		}
	}
}

// TestCPUGaugeWithoutGOMAXPROCSIsAFractionOfOneCore proves a service
// that does not export its cores gets its CPU in cores used, and says so.
func TestCPUGaugeWithoutGOMAXPROCSIsAFractionOfOneCore(t *testing.T) {
	tl := studySteps([]float64{100, 200}, nil, linearCPU)
	srv := newCPUProm(t, &cpuProm{usage: tl.usage})
	r, err := gauge(t, plan.Observe{Prometheus: srv.URL}).CPUFromSteps(context.Background(), tl.steps, 150)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Fraction-linearCPU(150)) > 1e-6 || r.Cores != 0 || !strings.Contains(r.Note, "the fraction is of one core") {
		t.Errorf("got %+v, want %.3f of one core with a note saying so", r, linearCPU(150))
	}
}

// TestCPUGaugeNotAvailable proves that missing series, an unreachable
// Prometheus and steps without spans are "not available" errors that say
// why.
func TestCPUGaugeNotAvailable(t *testing.T) {
	tl := studySteps([]float64{100, 200}, nil, linearCPU)
	empty := newCPUProm(t, &cpuProm{cores: 2}) // no CPU series
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	noSpans := append([]capacity.Step(nil), tl.steps...)
	for i := range noSpans {
		noSpans[i].Start, noSpans[i].End = time.Time{}, time.Time{}
	}
	cases := []struct {
		name  string
		url   string
		steps []capacity.Step
		want  string
	}{
		{"missing series", empty.URL, tl.steps, `not available: CPU over 2 acceptable steps: no series for sum(rate(container_cpu_usage_seconds_total{container!=""}[8s]))`},
		{"unreachable", closed, tl.steps, "not available: prometheus " + closed},
		{"no spans", empty.URL, noSpans, "not available: no acceptable step with a wall-clock span"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := gauge(t, plan.Observe{Prometheus: c.url}).CPUFromSteps(context.Background(), c.steps, 150)
			if !errors.Is(err, correlate.ErrNotAvailable) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrNotAvailable containing %q", err, c.want)
			}
		})
	}
}

// TestCPUGaugeRefusesSeveralInstances proves a selector that matches more
// than one instance is named, with the instances it matched.
func TestCPUGaugeRefusesSeveralInstances(t *testing.T) {
	tl := studySteps([]float64{100, 200}, nil, linearCPU)
	srv := newCPUProm(t, &cpuProm{usage: tl.usage, cores: 2, instances: []string{"127.0.0.1:18082", "127.0.0.1:18081"}})
	_, err := gauge(t, plan.Observe{Prometheus: srv.URL, Selector: `{job="shop"}`}).CPUFromSteps(context.Background(), tl.steps, 150)
	if err == nil || !strings.Contains(err.Error(), "observe.selector") || !strings.Contains(err.Error(), "127.0.0.1:18081, 127.0.0.1:18082") {
		t.Errorf("error %v, want one naming observe.selector and both instances", err)
	}
}

// TestCPUGaugeBadInput proves bad plans and arguments get errors naming
// what is wrong.
func TestCPUGaugeBadInput(t *testing.T) {
	for _, c := range []struct {
		o    plan.Observe
		want string
	}{
		{plan.Observe{Prometheus: "http://127.0.0.1:1", Selector: `{job="shop"`}, "observe.selector"},
		{plan.Observe{}, "observe.prometheus: not set"},
		{plan.Observe{Prometheus: "127.0.0.1:9090"}, "observe.prometheus"},
	} {
		if _, err := correlate.NewCPUGauge(c.o, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewCPUGauge(%+v): %v, want an error containing %q", c.o, err, c.want)
		}
	}
	tl := studySteps([]float64{100, 200}, nil, linearCPU)
	srv := newCPUProm(t, &cpuProm{usage: tl.usage, cores: 2})
	g := gauge(t, plan.Observe{Prometheus: srv.URL})
	for _, rps := range []float64{0, -5, math.NaN(), math.Inf(1)} {
		if _, err := g.CPUFromSteps(context.Background(), tl.steps, rps); err == nil || !strings.Contains(err.Error(), "not a positive rate") {
			t.Errorf("rps %g: %v, want a rate error", rps, err)
		}
	}
	if _, err := g.CPUFromSteps(context.Background(), tl.steps[:1], 150); err == nil || !strings.Contains(err.Error(), "only one acceptable step has CPU") {
		t.Errorf("one step: %v, want an error saying two are needed", err)
	}
	if got, err := g.CPUFromSteps(context.Background(), tl.steps[:1], 100.5); err != nil || math.Abs(got.Fraction-linearCPU(100)/2) > 1e-6 {
		t.Errorf("one step at its own rate: %+v, %v; want its CPU", got, err)
	}
}

// simStudy is a Prober in virtual time: a target whose p99 breaks the
// 100 ms SLO above 300 iterations/s and that uses linearCPU(rate) cores
// while a step runs.
type simStudy struct {
	mu sync.Mutex
	at time.Time
	tl timeline
}

func (s *simStudy) Probe(_ context.Context, p capacity.Probe) (capacity.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rate, d := p.Holds[len(p.Holds)-1].Rate, p.Duration()
	p99 := 20.0
	if rate > 300 {
		p99 = 900
	}
	start, end := s.at.Add(p.Warmup), s.at.Add(d)
	st := capacity.Step{Index: len(s.tl.steps) + 1, Start: start, End: end}
	s.tl.steps = append(s.tl.steps, st)
	s.tl.cores[st.Index] = linearCPU(rate)
	s.at = end.Add(2 * time.Second)
	secs := end.Sub(start).Seconds()
	n := int64(rate * secs)
	return capacity.Summary{Seconds: secs, Offered: rate, Achieved: rate, Throughput: rate, Goodput: rate,
		Requests: n, Iterations: n, InFlight: rate * p99 / 1000, Start: start, End: end, Elapsed: d, Sent: n,
		Latency: capacity.Latency{P50: p99 / 2, P90: p99, P95: p99, P99: p99, Max: p99, Mean: p99 / 2}}, nil
}

func (s *simStudy) usage(t time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tl.usage(t)
}

// TestStudyReportsCPUAtTheThreshold proves a study given the gauge reports
// the CPU at its autoscaling threshold, of the instance's cores, and that
// an unreachable Prometheus leaves a note while the study completes.
func TestStudyReportsCPUAtTheThreshold(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, reachable := range []bool{true, false} {
		t.Run(fmt.Sprintf("reachable=%v", reachable), func(t *testing.T) {
			sim := &simStudy{at: t0, tl: timeline{cores: map[int]float64{}}}
			url := closed
			if reachable {
				url = newCPUProm(t, &cpuProm{usage: sim.usage, cores: 2}).URL
			}
			p := &plan.Plan{Name: "sim", Target: plan.Target{BaseURL: "http://127.0.0.1:1"}, SLO: plan.SLO{P99: 100 * time.Millisecond},
				Load: plan.Load{Model: "open", MaxVUs: 1000}, Capacity: plan.Capacity{StepDuration: 10 * time.Second}}
			s, err := capacity.Run(context.Background(), p, sim,
				capacity.Options{Cooldown: -1, SkipStress: true, CPU: gauge(t, plan.Observe{Prometheus: url})})
			if err != nil || !s.Complete {
				t.Fatalf("study: %v, complete %v, notes %q", err, s.Complete, s.Notes)
			}
			r := s.Recommendation
			var text strings.Builder
			_ = s.WriteText(&text)
			if !reachable {
				if r.CPU != nil || !strings.Contains(text.String(), "CPU at the autoscaling threshold: not available: prometheus "+closed) {
					t.Errorf("CPU %v; want none and a note:\n%s", r.CPU, text.String())
				}
				return
			}
			want := linearCPU(r.AutoscaleRPS) / 2
			if r.CPU == nil || math.Abs(*r.CPU-want) > 1e-6 || r.CPUCores != 2 {
				t.Fatalf("CPU %v of %g cores at %.1f req/s, want %.4f of 2\n%s", r.CPU, r.CPUCores, r.AutoscaleRPS, want, text.String())
			}
			if line := fmt.Sprintf("CPU at the threshold: %.0f%% of 2 cores", 100*want); !strings.Contains(text.String(), line) {
				t.Errorf("no %q in:\n%s", line, text.String())
			}
		})
	}
}
