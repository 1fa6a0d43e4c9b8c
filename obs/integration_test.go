package obs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/headroom-sre/headroom/obs"
)

// TestStackScrapesTargetsAndStoresTraces brings the real stack up and checks
// both halves: Prometheus scrapes a "shop" target we serve, and Jaeger keeps
// a trace we export over OTLP/HTTP with its parent/child structure.
func TestStackScrapesTargetsAndStoresTraces(t *testing.T) {
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	run := randomHex(t, 8)
	reg := prometheus.NewRegistry()
	marker := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "obs_test_requests_total", Help: "Requests seen by the fake shop.", ConstLabels: prometheus.Labels{"run": run},
	})
	reg.MustRegister(marker)
	marker.Add(3)
	shop := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer shop.Close()

	stack := startStack(ctx, t, obs.Config{ScrapeShop: []string{strings.TrimPrefix(shop.URL, "http://")}})
	windowStart := time.Now()

	t.Run("prometheus scrapes the shop job", func(t *testing.T) {
		query := `obs_test_requests_total{job="shop",run="` + run + `"}`
		if err := stack.WaitForSeries(ctx, query); err != nil {
			t.Fatal(err)
		}
		client, err := api.NewClient(api.Config{Address: stack.PrometheusURL})
		if err != nil {
			t.Fatal(err)
		}
		value, _, _, err := v1.NewAPI(client).QueryRange(ctx, query, rangeSince(windowStart))
		if err != nil {
			t.Fatal(err)
		}
		matrix, ok := value.(model.Matrix)
		if !ok || len(matrix) != 1 || len(matrix[0].Values) == 0 {
			t.Fatalf("QueryRange %s = %v, want one series with samples", query, value)
		}
		if got := matrix[0].Values[len(matrix[0].Values)-1].Value; got != 3 {
			t.Errorf("last sample = %v, want 3 (the counter's value)", got)
		}
	})

	t.Run("prometheus scrapes itself", func(t *testing.T) {
		if err := stack.WaitForSeries(ctx, `up{job="prometheus"} == 1`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("jaeger stores an exported trace", func(t *testing.T) {
		traceID, parentID, childID := exportTrace(ctx, t, stack.OTLPEndpoint)
		spans := waitForSpans(ctx, t, stack, traceID, 2)
		byID := map[string]obs.Span{}
		for _, s := range spans {
			byID[s.SpanID] = s
		}
		parent, child := byID[parentID], byID[childID]
		if parent.Name != "GET /checkout" || parent.Service != "obs-test" {
			t.Errorf("parent span = %+v, want GET /checkout of service obs-test", parent)
		}
		if child.Name != "db.query" || child.ParentID != parentID {
			t.Errorf("child span = %+v, want db.query under %s", child, parentID)
		}
		if got := child.Attributes["db.statement"]; got != "SELECT 1" {
			t.Errorf("child db.statement = %q, want SELECT 1", got)
		}
	})
}

// TestTraceStoreKeepsTheNewestMaxTraces fills a store of two traces with
// three: the first is evicted, the newest two are kept.
func TestTraceStoreKeepsTheNewestMaxTraces(t *testing.T) {
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, obs.Config{MaxTraces: 2})
	var ids []string
	for range 3 {
		id, _, _ := exportTrace(ctx, t, stack.OTLPEndpoint)
		waitForSpans(ctx, t, stack, id, 2) // stored, in order
		ids = append(ids, id)
	}
	resp, err := http.Get(stack.TracesURL + "/api/traces/" + ids[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("oldest of 3 traces in a store of 2: HTTP %d, want 404 (evicted)", resp.StatusCode)
	}
	for _, id := range ids[1:] {
		waitForSpans(ctx, t, stack, id, 2)
	}
}

// TestStopEndsTheProcesses checks that Stop ends both servers by PID.
func TestStopEndsTheProcesses(t *testing.T) {
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	stack := startStack(ctx, t, obs.Config{Dir: dir})
	var pids []int
	for _, name := range []string{"prometheus.pid", "jaeger.pid"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pids = append(pids, pid)
	}
	if err := stack.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && len(cmdline) > 0 {
			t.Errorf("PID %d still runs after Stop: %q", pid, cmdline)
		}
	}
	if resp, err := http.Get(stack.PrometheusURL + "/-/ready"); err == nil {
		resp.Body.Close()
		t.Errorf("Prometheus still answers at %s after Stop", stack.PrometheusURL)
	}
}

// TestStartRefusesABusyPort checks that obs-up will not start against a port
// something else holds, and says which setting to change.
func TestStartRefusesABusyPort(t *testing.T) {
	obs.Require(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The harness always passes its own ports, so run the script directly.
	out, err := runScript(ctx, t, "obs-up", "OBS_DIR="+t.TempDir(), "OBS_PROM_PORT="+port,
		"OBS_TRACES_PORT="+freePort(t), "OBS_TRACES_GRPC_PORT="+freePort(t), "OBS_OTLP_PORT="+freePort(t), "OBS_HEALTH_PORT="+freePort(t))
	if err == nil {
		t.Fatalf("obs-up started with OBS_PROM_PORT=%s busy:\n%s", port, out)
	}
	if !strings.Contains(out, "OBS_PROM_PORT="+port) || !strings.Contains(out, "already in use") {
		t.Errorf("obs-up's error does not name the busy port's setting:\n%s", out)
	}
}

// rangeSince is a 1 s step range from start to now that ends exactly at now,
// so the newest sample (which a Wait just saw) is inside it.
func rangeSince(start time.Time) v1.Range {
	end := time.Now()
	steps := max(1, int(end.Sub(start)/time.Second)+1)
	return v1.Range{Start: end.Add(-time.Duration(steps) * time.Second), End: end, Step: time.Second}
}

// startStack starts the stack in a fresh folder and stops it when t ends.
func startStack(ctx context.Context, t *testing.T, cfg obs.Config) *obs.Stack {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	started := time.Now()
	stack, err := obs.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack ready in %v: %s, %s, OTLP %s", time.Since(started).Round(time.Millisecond),
		stack.PrometheusURL, stack.TracesURL, stack.OTLPEndpoint)
	t.Cleanup(func() {
		stopping := time.Now()
		if err := stack.Stop(); err != nil {
			t.Error(err)
		}
		t.Logf("stack stopped in %v", time.Since(stopping).Round(time.Millisecond))
	})
	return stack
}

// exportTrace sends a two-span trace (a server span with a db.query child)
// over OTLP/HTTP and returns the trace, parent and child IDs in hex.
func exportTrace(ctx context.Context, t *testing.T, endpoint string) (traceID, parentID, childID string) {
	t.Helper()
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "obs-test"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter), sdktrace.WithResource(res))
	defer func() {
		if err := tp.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	tracer := tp.Tracer("obs_test")
	ctx, parent := tracer.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tracer.Start(ctx, "db.query", trace.WithAttributes(attribute.String("db.statement", "SELECT 1")))
	child.End()
	parent.End()
	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	return parent.SpanContext().TraceID().String(), parent.SpanContext().SpanID().String(), child.SpanContext().SpanID().String()
}

// waitForSpans polls the trace store until the trace has at least n spans.
func waitForSpans(ctx context.Context, t *testing.T, stack *obs.Stack, traceID string, n int) []obs.Span {
	t.Helper()
	for {
		body, err := stack.WaitForTrace(ctx, traceID)
		if err != nil {
			t.Fatal(err)
		}
		spans, err := obs.DecodeTrace(body)
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) >= n {
			return spans
		}
		select {
		case <-ctx.Done():
			t.Fatalf("trace %s has %d spans, want %d: %s", traceID, len(spans), n, body)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runScript runs ../scripts/<name> with extra environment and returns its
// combined output.
func runScript(ctx context.Context, t *testing.T, name string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, filepath.Join("..", "scripts", name))
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// freePort returns a TCP port that was free on 127.0.0.1.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
