package correlate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

const knee = 60 * time.Second

// scenario is one synthetic degradation: what Prometheus shows and what
// the traces of each window look like.
type scenario struct {
	curves   map[string]curve
	baseline []spanSpec // spans of each baseline trace
	degraded []spanSpec
}

var at = t0.Add(knee - 2*time.Second) // signals move just before the knee

// quietSignals are the service's signals when nothing is wrong with them.
func quietSignals() map[string]curve {
	return map[string]curve{
		"avg(up{":                        constant(1),
		"process_cpu_seconds_total":      stepAt(at, 0.3, 0.35),
		"go_sched_gomaxprocs_threads":    constant(2),
		"go_sql_wait_duration_seconds":   constant(0),
		"go_sql_wait_count_total":        constant(0),
		"go_sql_in_use_connections":      stepAt(at, 1, 2),
		"go_sql_max_open_connections":    constant(10),
		"go_goroutines":                  stepAt(at, 20, 90),
		"http_requests_in_flight":        stepAt(at, 2, 60),
		"process_resident_memory_bytes":  constant(60 << 20),
		"go_memstats_heap_alloc_bytes":   constant(20 << 20),
		"go_gc_duration_seconds_sum":     constant(0.0005),
		"go_memstats_alloc_bytes_total":  constant(5 << 20),
		"process_open_fds":               constant(30),
		"process_max_fds":                constant(1024),
		"go_gc_duration_seconds_count":   constant(1),
		"go_gc_gogc_percent":             constant(100),
		"go_gc_duration_seconds{quantil": constant(0.0002),
	}
}

const listStmt = "SELECT id, name, price FROM products WHERE category_id = ? ORDER BY created_at DESC LIMIT 20"

func poolScenario() scenario {
	c := quietSignals()
	c["go_sql_wait_duration_seconds"] = stepAt(at, 0, 0.8)
	c["go_sql_wait_count_total"] = stepAt(at, 0, 40)
	c["go_sql_in_use_connections"] = stepAt(at, 2, 10)
	return scenario{curves: c,
		baseline: []spanSpec{{name: "GET /v1/products", to: 40 * time.Millisecond},
			{name: "SELECT products", parent: "GET /v1/products", from: 5 * time.Millisecond, to: 30 * time.Millisecond, stmt: listStmt}},
		degraded: []spanSpec{{name: "GET /v1/products", to: 900 * time.Millisecond},
			{name: "SELECT products", parent: "GET /v1/products", from: 5 * time.Millisecond, to: 880 * time.Millisecond, stmt: listStmt}},
	}
}

func cpuScenario() scenario {
	c := quietSignals()
	c["process_cpu_seconds_total"] = stepAt(at, 0.5, 1.9)
	return scenario{curves: c,
		baseline: []spanSpec{{name: "GET /v1/products", to: 40 * time.Millisecond},
			{name: "SELECT products", parent: "GET /v1/products", from: 30 * time.Millisecond, to: 35 * time.Millisecond, stmt: listStmt}},
		degraded: []spanSpec{{name: "GET /v1/products", to: 700 * time.Millisecond},
			{name: "SELECT products", parent: "GET /v1/products", from: 680 * time.Millisecond, to: 690 * time.Millisecond, stmt: listStmt}},
	}
}

// cpuStarvedScenario: the host's other work leaves the process under half
// its cores, yet goroutines queue for a CPU.
func cpuStarvedScenario() scenario {
	s := cpuScenario()
	s.curves["process_cpu_seconds_total"] = stepAt(at, 0.3, 0.9)
	s.curves["go_sched_latencies_seconds_bucket"] = stepAt(at, 0.0004, 0.05)
	return s
}

func downstreamScenario() scenario {
	return scenario{curves: quietSignals(),
		baseline: []spanSpec{{name: "POST /v1/checkout", to: 40 * time.Millisecond},
			{name: "INSERT orders", parent: "POST /v1/checkout", from: 2 * time.Millisecond, to: 6 * time.Millisecond, stmt: "INSERT INTO orders (user_id, total) VALUES (?, ?)"},
			{name: "payment", parent: "POST /v1/checkout", from: 8 * time.Millisecond, to: 30 * time.Millisecond, client: true}},
		degraded: []spanSpec{{name: "POST /v1/checkout", to: 720 * time.Millisecond},
			{name: "INSERT orders", parent: "POST /v1/checkout", from: 2 * time.Millisecond, to: 6 * time.Millisecond, stmt: "INSERT INTO orders (user_id, total) VALUES (?, ?)"},
			{name: "payment", parent: "POST /v1/checkout", from: 8 * time.Millisecond, to: 710 * time.Millisecond, client: true}},
	}
}

func nPlusOneScenario() scenario {
	repeat := func(total time.Duration, n int, each time.Duration) []spanSpec {
		s := []spanSpec{{name: "GET /v1/products", to: total},
			{name: "SELECT products", parent: "GET /v1/products", to: 2 * time.Millisecond, stmt: listStmt}}
		for i := 0; i < n; i++ {
			from := 2*time.Millisecond + time.Duration(i)*each
			s = append(s, spanSpec{name: "SELECT stock", parent: "GET /v1/products", from: from, to: from + each,
				stmt: "SELECT quantity FROM stock WHERE product_id = ?"})
		}
		return s
	}
	return scenario{curves: quietSignals(),
		baseline: repeat(30*time.Millisecond, 20, time.Millisecond),
		degraded: repeat(600*time.Millisecond, 20, 29*time.Millisecond),
	}
}

// traces places 8 baseline traces in [10s, 45s) and 8 degraded ones in
// [65s, 115s).
func (s scenario) traces() []fakeTrace {
	var out []fakeTrace
	for i := 0; i < 8; i++ {
		out = append(out, fakeTrace{id: traceID(i), start: t0.Add(10*time.Second + time.Duration(i)*4*time.Second), spans: s.baseline})
		out = append(out, fakeTrace{id: traceID(100 + i), start: t0.Add(65*time.Second + time.Duration(i)*6*time.Second), spans: s.degraded})
	}
	return out
}

func (s scenario) input() Input {
	in := Input{
		Seconds:  runSeconds(120, knee, 50, 900, 50, 300),
		SLOP99Ms: 400,
		Observe:  plan.Observe{Selector: `{job="shop"}`, Service: "shop", Grafana: "http://127.0.0.1:13000"},
	}
	in.Exemplars = []Exemplar{{TraceID: traceID(100), At: t0.Add(65 * time.Second), LatencyMs: 900, Name: "list products"}}
	return in
}

// explainScenario runs Explain against fake Prometheus and Tempo servers.
func explainScenario(t *testing.T, s scenario) Report {
	t.Helper()
	prom := newFakeProm(t, s.curves)
	tempo, _ := newFakeTempo(t, s.traces())
	src := sources(t, prom.URL, tempo.URL)
	rep, err := Explain(context.Background(), s.input(), src)
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	if len(rep.Findings) == 0 {
		t.Fatalf("no findings; not available: %v", rep.NotAvailable)
	}
	return rep
}

func sources(t *testing.T, promURL, tempoURL string) Sources {
	t.Helper()
	p, err := NewPrometheus(promURL, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := NewTempo(tempoURL, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return Sources{Metrics: p, Traces: tm}
}

func kinds(fs []Finding) string {
	var k []string
	for _, f := range fs {
		k = append(k, string(f.Kind))
	}
	return strings.Join(k, ",")
}

func TestExplainRanksPoolWaitFirstAndSizesThePool(t *testing.T) {
	rep := explainScenario(t, poolScenario())
	top := rep.Findings[0]
	if top.Kind != "pool_wait" {
		t.Fatalf("top finding %s, want pool_wait (all: %s)", top.Kind, kinds(rep.Findings))
	}
	// Little's Law: 2 connections at 50/s → 40 ms held; 300/s × 40 ms = 12 busy; 12/0.65 → 19.
	if !strings.Contains(top.Recommendation, "from 10 to 19") {
		t.Errorf("recommendation %q does not size the pool from 10 to 19", top.Recommendation)
	}
	if top.Evidence.Signal == nil || top.Evidence.Signal.LeadSeconds == nil || *top.Evidence.Signal.LeadSeconds < 0 {
		t.Errorf("pool_wait should lead the knee: %+v", top.Evidence.Signal)
	}
	if len(top.Evidence.Queries) == 0 || !strings.Contains(top.Evidence.Queries[0], `go_sql_wait_duration_seconds_total{job="shop"}`) {
		t.Errorf("evidence queries %v lack the selector-injected pool query", top.Evidence.Queries)
	}
	if len(top.Evidence.Traces) == 0 || !strings.Contains(top.Evidence.Traces[0].URL, "/api/traces/00") ||
		!strings.Contains(top.Evidence.Traces[0].Grafana, "/explore?") {
		t.Errorf("trace links %+v", top.Evidence.Traces)
	}
	for _, f := range rep.Findings {
		if f.Kind == "cpu_usage" || f.Kind == "goroutines" || f.Kind == "http_in_flight" {
			t.Errorf("%s blamed in a pool scenario: %s", f.Kind, f.Title)
		}
	}
}

func TestExplainRanksCPUFirstWhenCoresAreUsedUp(t *testing.T) {
	rep := explainScenario(t, cpuScenario())
	top := rep.Findings[0]
	if top.Kind != "cpu_usage" {
		t.Fatalf("top finding %s, want cpu_usage (all: %s)", top.Kind, kinds(rep.Findings))
	}
	// 0.5 cores at 50/s = 10 ms per request; 300/s needs 3 cores; 2-core instances at 65% → 3.
	if !strings.Contains(top.Recommendation, "3 instances of 2.00 cores") {
		t.Errorf("recommendation %q", top.Recommendation)
	}
}

func TestExplainBlamesCPUWhenGoroutinesWaitForACore(t *testing.T) {
	rep := explainScenario(t, cpuStarvedScenario())
	top := rep.Findings[0]
	if top.Kind != "cpu_usage" || !strings.Contains(top.Recommendation, "host is oversubscribed") {
		t.Fatalf("top finding %s %q, want cpu_usage naming the oversubscribed host (all: %s)", top.Kind, top.Recommendation, kinds(rep.Findings))
	}
	if rep.Findings[1].Kind != "slow_span" || !hasNote(rep.Findings[1].Evidence.Facts, "consistent with the CPU finding") {
		t.Errorf("second finding %s %v, want the handler's own time, tied to CPU", rep.Findings[1].Kind, rep.Findings[1].Evidence.Facts)
	}
}

func TestExplainNamesTheSlowDownstreamSpanAndBlamesNoResource(t *testing.T) {
	rep := explainScenario(t, downstreamScenario())
	top := rep.Findings[0]
	if top.Kind != "slow_span" || !strings.Contains(top.Title, `"payment"`) {
		t.Fatalf("top finding %s %q, want the payment span (all: %s)", top.Kind, top.Title, kinds(rep.Findings))
	}
	for _, f := range rep.Findings {
		if f.Evidence.Signal != nil {
			t.Errorf("resource signal blamed: %s", f.Title)
		}
	}
	if rep.Spans == nil || !near(rep.Spans.AddedMs, 680, 1) {
		t.Errorf("added latency %+v, want 680 ms", rep.Spans)
	}
}

func TestExplainFindsNPlusOne(t *testing.T) {
	rep := explainScenario(t, nPlusOneScenario())
	var found *Finding
	for i, f := range rep.Findings {
		if f.Kind == "n_plus_one" {
			found = &rep.Findings[i]
		}
	}
	if found == nil {
		t.Fatalf("no n_plus_one finding (all: %s)", kinds(rep.Findings))
	}
	if !strings.Contains(found.Title, `"SELECT stock" repeats 20 times`) || found.Evidence.Repeat.Parent != "GET /v1/products" {
		t.Errorf("n_plus_one finding %q %+v", found.Title, found.Evidence.Repeat)
	}
}

func TestExplainWithoutSignalsOrSpansSaysUnexplained(t *testing.T) {
	s := downstreamScenario()
	s.baseline = s.degraded // traces did not change: nothing added
	rep := explainScenario(t, s)
	if rep.Findings[0].Kind != "unexplained" || !strings.Contains(rep.Findings[0].Recommendation, `"payment"`) {
		t.Errorf("findings %s, first %q", kinds(rep.Findings), rep.Findings[0].Recommendation)
	}
}

func TestExplainNotesScrapeGapsAndUnmatchedSelectors(t *testing.T) {
	s := poolScenario()
	s.curves["avg(up{"] = stepAt(at.Add(20*time.Second), 1, 0) // scrapes fail from 78 s on
	rep := explainScenario(t, s)
	if !hasNote(rep.Notes, "failed 7", "of its scrapes") {
		t.Errorf("notes %q, want the failed scrapes", rep.Notes)
	}
	delete(s.curves, "avg(up{")
	rep = explainScenario(t, s)
	if !hasNote(rep.NotAvailable, "no scrape target matches the selector", `avg(up{job="shop"})`) {
		t.Errorf("not available %q, want the unmatched selector", rep.NotAvailable)
	}
}

func TestExplainReportsNoDegradation(t *testing.T) {
	in := poolScenario().input()
	in.SLOP99Ms = 5000
	rep, err := Explain(context.Background(), in, Sources{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Window.Found || len(rep.Findings) != 0 || len(rep.Notes) == 0 {
		t.Errorf("report %+v, want no window, no findings and a note", rep)
	}
}

func TestExplainRejectsBadInput(t *testing.T) {
	if _, err := Explain(context.Background(), Input{}, Sources{}); err == nil {
		t.Error("empty input: want an error")
	}
	in := poolScenario().input()
	in.Observe.Selector = `{job=shop}`
	if _, err := Explain(context.Background(), in, Sources{}); err == nil || !strings.Contains(err.Error(), "observe.selector") {
		t.Errorf("bad selector: error %v, want one naming observe.selector", err)
	}
}

// blocking answers nothing until the client gives up.
func blocking(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func fixed(t *testing.T, status int, ctype, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func refused(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}
