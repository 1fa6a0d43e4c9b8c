package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/soak"
)

// A run with a soak that found a leak and a spike that recovered: the
// executive summary fails the soak check with the leaking signal's name and
// passes the spike's; each has its section with the arithmetic.
func TestReportShowsSoakAndSpikeVerdicts(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := 3
	run := &pipeline.RunResult{Kind: pipeline.KindRun, Plan: "soak", Outcome: pipeline.Failed,
		Result: &generator.Result{Start: start, End: start.Add(time.Hour)},
		Soak: &soak.Result{From: start, To: start.Add(time.Hour), Target: 40, Verdict: soak.Leak, Signals: []soak.Signal{
			{Name: "memory", Unit: "bytes", Verdict: soak.Leak, Resource: true, SlopePerHour: 38 << 20, CILow: 35 << 20, CIHigh: 41 << 20, Growth: 38 << 20, Threshold: 5 << 20, Limit: 512 << 20, HoursToLimit: 7.5},
			{Name: "goroutines", Unit: "count", Verdict: soak.Flat, Resource: true, Level: 40, Threshold: 5},
		}},
		Spike: &capacity.Spike{Profile: capacity.SpikeProfile{Baseline: 20, Peak: 200, After: time.Minute}, Recovered: true, RecoveryS: &rec,
			Verdict: "recovered", Criterion: "p99 < 400ms", Statement: "from 20 to 200 it/s …", Requests: 1000, Errors: 12},
	}
	var b bytes.Buffer
	if err := Render(&b, pipeline.Artifact{Kind: pipeline.KindRun, Run: run}, Options{Format: Markdown}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| soak | no resource grows without levelling off | a leak: memory grow | FAIL",
		"spike ×10: every SLO back within 1m0s", "recovered 3s after the drop",
		"### Soak: trends over 1h0m0s at 40", "memory grows 38.0 MiB/h (95% CI 35.0 MiB–41.0 MiB/h)", "reaches the 512 MiB limit in about 7.5 h",
		"### Spike", "12 errors of 1000 requests",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}
