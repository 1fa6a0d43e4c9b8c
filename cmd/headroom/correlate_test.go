package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
)

// savedRun writes a run whose p99 breaks 400 ms from second 40 on.
func savedRun(t *testing.T) string {
	t.Helper()
	start := time.Unix(1_700_000_000, 0).UTC()
	var r generator.Result
	for i := 0; i < 80; i++ {
		p99 := 40.0
		if i >= 40 {
			p99 = 900
		}
		r.Seconds = append(r.Seconds, generator.SecondRecord{Start: start.Add(time.Duration(i) * time.Second),
			Requests: 50, Latency: generator.Latency{P99: p99}})
	}
	b, _ := json.Marshal(pipeline.RunResult{Kind: pipeline.KindRun, Result: &r})
	path := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCorrelateCommandCompletesWithoutSources(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	out := filepath.Join(t.TempDir(), "findings.json")
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"correlate", "--slo-p99", "400ms", "--prometheus", downURL, "--out", out, savedRun(t)}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	text := stdout.String()
	for _, want := range []string{"degraded from", "1. No signal explains", "prometheus: not available", "connection refused", "tempo: not available: observe.tempo is not set"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	var rep struct {
		Findings []struct {
			Rank int    `json:"rank"`
			Kind string `json:"kind"`
		} `json:"findings"`
		NotAvailable []string `json:"not_available"`
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Findings) != 1 || rep.Findings[0].Kind != "unexplained" || len(rep.NotAvailable) != 2 {
		t.Errorf("--out report %s (err %v)", b, err)
	}
}

func TestCorrelateCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{}, "want exactly one"},
		{"missing file", []string{filepath.Join(dir, "nope.json")}, "no such file"},
		{"not JSON", []string{write("bad.json", "{")}, "not a JSON object"},
		{"unknown shape", []string{write("x.json", `{"hello":1}`)}, `no "kind": not a run or study written by this version of headroom (its keys: hello)`},
		{"old run without kind", []string{write("old.json", `{"start":"2026-01-01T00:00:00Z","windows":[]}`)}, "(its keys: start, windows)"},
		{"unknown kind", []string{write("k.json", `{"kind":"benchmark"}`)}, `kind "benchmark" is neither "run" nor "study"`},
		{"study without times", []string{write("study.json", `{"kind":"study","steps":[{"index":1,"offered":10}]}`)}, `no step has wall-clock times ("start"/"end")`},
		{"bad flag", []string{"--timeout", "-1s", savedRun(t)}, "--timeout must be positive"},
		{"bad jaeger URL", []string{"--jaeger", "localhost:16686", savedRun(t)}, "--jaeger"},
		{"bad plan", []string{"--plan", filepath.Join(dir, "missing.yaml"), savedRun(t)}, "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(append([]string{"correlate"}, tt.args...), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}

// savedStudy writes a study whose 80/s step broke the SLO, with the
// traces it kept: typical ones of the 40/s baseline step (a 2 ms query)
// beside that step's slowest (30 ms), and the slowest of the degraded step
// (the same query taking 700 ms).
func savedStudy(t *testing.T) string {
	t.Helper()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	step := func(i int, rate, p99 float64, v capacity.Verdict) capacity.Step {
		start := t0.Add(time.Duration(i) * 40 * time.Second)
		return capacity.Step{Index: i + 1, Phase: capacity.PhaseExplore, Rate: rate, Offered: rate, Achieved: rate, Throughput: rate,
			Latency: capacity.Latency{P99: p99}, Start: start, End: start.Add(30 * time.Second), Verdict: v, Seconds: 30}
	}
	st := capacity.Study{Plan: "shop", Steps: []capacity.Step{step(0, 20, 30, capacity.Acceptable), step(1, 40, 35, capacity.Acceptable), step(2, 80, 900, capacity.Unacceptable)}}
	kept := func(id string, at time.Time, slow bool, queryMs float64) correlate.KeptTrace {
		return correlate.KeptTrace{ID: id, Slow: slow, Spans: []correlate.KeptSpan{
			{ID: "a", Name: "GET /v1/products", Service: "shop", Start: at, DurationMs: queryMs + 5, SelfMs: 5},
			{ID: "b", Parent: "a", Name: "SELECT products", Service: "shop", Start: at.Add(time.Millisecond), DurationMs: queryMs, SelfMs: queryMs,
				Statement: "SELECT id FROM products WHERE category_id = ?", Attrs: map[string]string{"db.system": "sqlite"}},
		}}
	}
	var traces []correlate.KeptTrace
	for i := 0; i < 5; i++ {
		traces = append(traces, kept(fmt.Sprintf("%032x", i+1), st.Steps[1].Start.Add(time.Duration(i+1)*time.Second), false, 2))
		id := fmt.Sprintf("%032x", i+100)
		traces = append(traces, kept(id, st.Steps[2].Start.Add(time.Duration(i+1)*time.Second), true, 700))
		st.Steps[2].Exemplars = append(st.Steps[2].Exemplars, generator.Exemplar{TraceID: id, At: st.Steps[2].Start.Add(time.Duration(i+1) * time.Second), LatencyMs: 705})
	}
	for i := 0; i < 20; i++ { // the baseline step's slowest: they must not size the baseline
		traces = append(traces, kept(fmt.Sprintf("%032x", i+200), st.Steps[1].Start.Add(time.Duration(i)*time.Second+500*time.Millisecond), true, 30))
	}
	b, _ := json.Marshal(pipeline.StudyResult{Kind: pipeline.KindStudy, Study: &st, Correlation: &correlate.Report{Traces: traces}})
	path := filepath.Join(t.TempDir(), "study.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Rule 8: correlate replays a study's kept traces without a trace store:
// the slow query of the degraded step against the typical baseline.
func TestCorrelateCommandReplaysAStudysKeptTraces(t *testing.T) {
	out := filepath.Join(t.TempDir(), "findings.json")
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"correlate", "--out", out, savedStudy(t)}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	text := stdout.String()
	for _, want := range []string{`Query span "SELECT products" added 698.0 ms per request`, "slowest trace of the window: 705.0 ms", "degraded steps (the window, nothing between them): explore #3"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	var rep correlate.Report
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Spans == nil || rep.Spans.BaselineTraces != 5 || rep.Spans.DegradedTraces != 5 || rep.Spans.BaselineRootMs != 7 {
		t.Fatalf("breakdown %+v: want the 5 typical baseline traces (7 ms) and the 5 slow degraded ones", rep.Spans)
	}
	if len(rep.Window.Parts) != 1 || rep.Window.Parts[0].Index != 3 {
		t.Errorf("degraded parts %+v, want step 3", rep.Window.Parts)
	}
}
