package pipeline

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/internal/golden"
)

var t0 = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

func textRun() *RunResult {
	lat := generator.Latency{P50: 4.2, P90: 8.1, P95: 9.9, P99: 31.5, Max: 120}
	return &RunResult{
		Kind: KindRun, Plan: "checkout", Outcome: Failed,
		Result: &generator.Result{
			Start: t0, End: t0.Add(20 * time.Second),
			Summary: generator.Summary{Requests: 2000, Errors: 12, ErrorRate: 0.006, ThroughputRPS: 100, Latency: lat,
				Iterations: 1000, DroppedIterations: 10, Bytes: 3 << 20, Classes: map[string]int64{"status_5xx": 9, "timeout": 3}},
			ByName: []generator.Summary{
				{Name: "GET /cart", Requests: 1000, ThroughputRPS: 50, Latency: lat},
				{Name: "POST /order", Requests: 1000, Errors: 12, ErrorRate: 0.012, ThroughputRPS: 50, Latency: lat, Classes: map[string]int64{"status_5xx": 9, "timeout": 3}},
			},
			CappedAt: 120,
		},
		SLO: []SLOResult{
			{Name: "p99", Threshold: "< 25ms", Value: 31.5, Unit: "ms", Pass: false},
			{Name: "error_rate", Threshold: "< 1%", Value: 0.006, Unit: "ratio", Pass: true},
		},
		Correlation: &correlate.Report{Window: correlate.Window{}, Notes: []string{"latency did not degrade"}},
	}
}

func textStudy() *StudyResult {
	st := &capacity.Study{
		Plan: "checkout", URL: "http://127.0.0.1:8080", Started: t0, Finished: t0.Add(time.Minute), Complete: true,
		Capacity: capacity.Bounds{SingleInstanceRPS: 160, UnacceptableRPS: 277, SingleInstanceRate: 160, UnacceptableRate: 320, RequestsPerIteration: 1},
		Steps: []capacity.Step{
			{Index: 1, Phase: capacity.PhaseBaseline, Rate: 20, Offered: 20, Achieved: 20, Throughput: 20, Verdict: capacity.Acceptable, Start: t0, End: t0.Add(3 * time.Second), Seconds: 3},
			{Index: 2, Phase: capacity.PhaseExplore, Rate: 160, Offered: 160, Achieved: 160, Throughput: 160, Verdict: capacity.Acceptable, Start: t0.Add(5 * time.Second), End: t0.Add(8 * time.Second), Seconds: 3},
			{Index: 3, Phase: capacity.PhaseExplore, Rate: 320, Offered: 320, Achieved: 277, Throughput: 277, Verdict: capacity.Unacceptable, Reasons: []string{"p95 < 40ms: measured 1002ms"}, Start: t0.Add(10 * time.Second), End: t0.Add(13 * time.Second), Seconds: 3},
		},
		LoadS: 9, Sent: 1371,
	}
	return &StudyResult{Kind: KindStudy, Outcome: Passed, Study: st,
		Correlation: &correlate.Report{Window: correlate.Window{}, Notes: []string{"no degradation window"}}}
}

// TestWriteTextGolden pins the one text of a run and of a study that the
// CLI and the server print.
func TestWriteTextGolden(t *testing.T) {
	for name, a := range map[string]Artifact{
		"run.txt":   {Kind: KindRun, Run: textRun()},
		"study.txt": {Kind: KindStudy, Study: textStudy()},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := a.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name, b.Bytes())
		})
	}
}

// TestWriteTextParts checks that WriteText is the summary, then the findings.
func TestWriteTextParts(t *testing.T) {
	r := textRun()
	var whole, sum, find bytes.Buffer
	if err := r.WriteText(&whole); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if err := WriteFindings(&find, r.Correlation); err != nil {
		t.Fatal(err)
	}
	if whole.String() != sum.String()+find.String() {
		t.Errorf("WriteText is not WriteSummary then WriteFindings")
	}
	for _, want := range []string{"POST /order", "✗ p99", "status_5xx 9, timeout 3", "capped", "Findings"} {
		if !strings.Contains(whole.String(), want) {
			t.Errorf("the run's text lacks %q", want)
		}
	}
	if err := (Artifact{}).WriteText(&whole); err == nil {
		t.Error("WriteText of an empty document: no error")
	}
	if err := WriteFindings(&find, nil); err != nil {
		t.Errorf("WriteFindings(nil) = %v", err)
	}
}
