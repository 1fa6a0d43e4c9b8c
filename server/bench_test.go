package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/server"
)

// pollPlan is 20 API clients (closed model, 20 virtual users) polling the
// job list, a job and its windows, as a dashboard does.
func pollPlan(api, token string, job int64, d time.Duration) string {
	return fmt.Sprintf(`version: 1
name: api-pollers
target:
  base_url: %s
  headers: { Authorization: "Bearer %s" }
load:
  model: closed
  start: 20
  stages:
    - { duration: %s, target: 20 }
journeys:
  - name: dashboard
    steps:
      - name: jobs
        get: /api/v1/jobs?limit=20
        expect: { status: 200 }
      - name: job
        get: /api/v1/jobs/%d
        expect: { status: 200 }
      - name: windows
        get: /api/v1/jobs/%d/windows
        expect: { status: 200 }
      - think: 100ms
`, api, token, d, job, job)
}

// BenchmarkAPIWhileAStudyRuns drives the API with Headroom's own generator
// (20 polling clients) while a study runs on the same server, and reports
// the API's latency. HEADROOM_BENCH_SECONDS sets each run's length (20).
func BenchmarkAPIWhileAStudyRuns(b *testing.B) {
	seconds := 20
	if v := os.Getenv("HEADROOM_BENCH_SECONDS"); v != "" {
		fmt.Sscan(v, &seconds)
	}
	ts := startServer(b, server.Config{})
	tgt := target(b)
	planID := ts.createPlan(b, studyPlan("bench-study", tgt.URL, "5s", 400))
	id := ts.startJob(b, planID, "study", nil)
	ts.waitJob(b, id, time.Minute, func(j job) bool { return j.Status == "running" })
	p, err := plan.Parse("pollers.yaml", []byte(pollPlan(ts.URL, ts.viewer, id, time.Duration(seconds)*time.Second)))
	if err != nil {
		b.Fatal(err)
	}
	var last *pipeline.RunResult
	for b.Loop() {
		res, err := pipeline.Run(context.Background(), p, pipeline.Settings{NoCorrelate: true}, pipeline.Hooks{})
		if err != nil {
			b.Fatal(err)
		}
		last = res
	}
	sum := last.Summary
	if sum.Errors > 0 {
		b.Errorf("%d of %d API requests failed: %v", sum.Errors, sum.Requests, sum.Classes)
	}
	var j job
	ts.getJSON(b, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d", id), &j)
	if j.Status != "running" {
		b.Logf("the study was %s by the end of the polling; lengthen it for a fair figure", j.Status)
	}
	var w windowsBody
	ts.getJSON(b, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows", id), &w)
	b.ReportMetric(sum.Latency.P50, "p50-ms")
	b.ReportMetric(sum.Latency.P99, "p99-ms")
	b.ReportMetric(sum.Latency.Max, "max-ms")
	b.ReportMetric(sum.ThroughputRPS, "api-req/s")
	b.ReportMetric(float64(len(w.Windows)), "study-windows")
	for _, n := range last.ByName {
		b.Logf("%-8s %6d requests  p50 %.2f ms  p99 %.2f ms", n.Name, n.Requests, n.Latency.P50, n.Latency.P99)
	}
	_ = http.MethodGet
}
