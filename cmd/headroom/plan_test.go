package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// writeShopLog writes a combined access log: per second, 3 browse sessions
// (list, detail) and 1 buy session (login, cart), each from its own client.
func writeShopLog(t *testing.T, dir string, seconds int) string {
	t.Helper()
	var b bytes.Buffer
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for s := 0; s < seconds; s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		for c := 0; c < 4; c++ {
			addr := fmt.Sprintf("10.1.%d.%d", s%200, c)
			reqs := []string{"GET /v1/products?page=2", fmt.Sprintf("GET /v1/products/%d", 1+s%500)}
			if c == 3 {
				reqs = []string{"POST /v1/login", "POST /v1/cart/items"}
			}
			for k, r := range reqs {
				fmt.Fprintf(&b, "%s - - [%s] \"%s HTTP/1.1\" 200 100 \"-\" \"agent-%d\"\n", addr,
					at.Add(time.Duration(k)*time.Second).Format("02/Jan/2006:15:04:05 -0700"), r, s)
			}
		}
	}
	path := filepath.Join(dir, "access.log")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlanFromLogsWritesAPlanThatChecksClean(t *testing.T) {
	dir := t.TempDir()
	log := writeShopLog(t, dir, 120)
	out := filepath.Join(dir, "derived.yaml")
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "from-logs", "--gap", "30s", "--out", out, "--base-url", "http://127.0.0.1:9", log}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("from-logs exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "960 lines") {
		t.Errorf("no progress line naming the lines read: %q", stderr.String())
	}
	p, err := plan.LoadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Journeys) != 2 || p.Journeys[0].Weight != 750 || p.Journeys[1].Weight != 250 {
		t.Fatalf("journeys %+v, want weights 750 and 250", p.Journeys)
	}
	stdout.Reset()
	stderr.Reset()
	code = dispatch([]string{"plan", "check", out, "--logs", log, "--quiet"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("check of the derived plan against its own log: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "the plan matches production") {
		t.Errorf("check output:\n%s", stdout.String())
	}
}

func TestPlanCheckWarnsWhereThePlanParts(t *testing.T) {
	dir := t.TempDir()
	log := writeShopLog(t, dir, 120)
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "check", "../../examples/shop.yaml", "--logs", log, "--quiet"}, &stdout, &stderr)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (warnings)\n%s%s", code, exitFailed, stdout.String(), stderr.String())
	}
	text := stdout.String()
	if !strings.Contains(text, "POST /v1/checkout") || !strings.Contains(text, "never seen in production") {
		t.Errorf("no warning for a plan route production never serves:\n%s", text)
	}
	if !strings.Contains(text, "GET /v1/products: ") || !strings.Contains(text, "points") {
		t.Errorf("no warning for a share that differs:\n%s", text)
	}
}

func TestPlanFromLogsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.log")
	os.WriteFile(bad, []byte("10.0.0.1 - - [01/Dec/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\ngarbage\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "from-logs", bad}, "bad.log:2:"},
		{[]string{"plan", "from-logs", "--format", "xml", bad}, "--format"},
		{[]string{"plan", "from-logs", filepath.Join(dir, "missing.log")}, "missing.log"},
		{[]string{"plan", "from-logs"}, "want one or more log files"},
		{[]string{"plan", "nope"}, "unknown subcommand"},
	} {
		var stdout, stderr bytes.Buffer
		if code := dispatch(c.args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr %q does not say %q", c.args, stderr.String(), c.want)
		}
	}
}

func TestPlanFromHAR(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "from-har", "--base-url", "http://127.0.0.1:9", "../../derive/testdata/shop.har"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := plan.Parse("recorded.yaml", stdout.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "{{ .vars.cart_id }}") {
		t.Errorf("no extraction reused:\n%s", stdout.String())
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.har")
	os.WriteFile(bad, []byte(`{"log":{"entries":[{"request":{"url":"http://x/"}}]}}`), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := dispatch([]string{"plan", "from-har", bad}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "log.entries[0].request") {
		t.Errorf("bad HAR: exit %d, %q", code, stderr.String())
	}
}

func TestPlanFromOpenAPI(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"plan", "from-openapi", "../../derive/testdata/shop-openapi.yaml"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p, err := plan.Parse("openapi.yaml", stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Journeys) != 7 || p.Target.BaseURL != "http://127.0.0.1:18081" {
		t.Errorf("%d journeys, base %s: want 7 and the document's server", len(p.Journeys), p.Target.BaseURL)
	}
	stderr.Reset()
	if code := dispatch([]string{"plan", "from-openapi", "plan_test.go"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "plan_test.go:") {
		t.Errorf("not a document: exit %d, %q", code, stderr.String())
	}
}

// recordedPrometheus answers the two queries of from-prometheus as a
// Prometheus did: the increase by route, and the rate series.
func recordedPrometheus(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		q := r.Form.Get("query")
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/query":
			if !strings.HasPrefix(q, "sum by (route) (increase(http_request_duration_seconds_count{job=\"shop\"}[1w]))") {
				t.Errorf("mix query %q", q)
			}
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"route":"GET /v1/products/{id}"},"value":[1765000000,"6000.4"]},
				{"metric":{"route":"GET /v1/products"},"value":[1765000000,"3000"]},
				{"metric":{"route":"POST /v1/checkout"},"value":[1765000000,"1000"]}]}}`)
		case "/api/v1/query_range":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[
				{"metric":{},"values":[[1765000000,"10"],[1765000600,"12"],[1765001200,"30"],[1765001800,"11"],[1765002400,"10"]]}]}}`)
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestPlanFromPrometheus(t *testing.T) {
	prom := recordedPrometheus(t)
	defer prom.Close()
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "from-prometheus", "--prometheus", prom.URL, "--selector", `{job="shop"}`, "--range", "7d"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p, err := plan.Parse("prom.yaml", stdout.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if len(p.Journeys) != 3 || p.Journeys[0].Weight != 600 || p.Journeys[2].Weight != 100 {
		t.Errorf("journeys %+v: want weights 600, 300, 100", p.Journeys)
	}
	// sustained = the median step (11 req/s); peak 30 req/s
	if p.Business.PeakFactor < 2.7 || p.Business.PeakFactor > 2.8 || p.Business.ActiveUsers != 330 {
		t.Errorf("business %+v: want 330 users at 2 req/min (11 req/s) and peak factor 30/11", p.Business)
	}
	if !strings.Contains(stderr.String(), "mix:  sum by (route)") || !strings.Contains(stdout.String(), "# The rate: sum(rate(") {
		t.Errorf("the queries are not shown:\n%s\n%s", stderr.String(), stdout.String())
	}

	stderr.Reset()
	prom.Close()
	if code := dispatch([]string{"plan", "from-prometheus", "--prometheus", prom.URL}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), prom.URL) {
		t.Errorf("unreachable Prometheus: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := dispatch([]string{"plan", "from-prometheus", "--prometheus", prom.URL, "--range", "7x"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "--range") {
		t.Errorf("bad range: exit %d, %q", code, stderr.String())
	}
}
