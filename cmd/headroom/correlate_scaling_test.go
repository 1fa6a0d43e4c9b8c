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
	"github.com/headroom-sre/headroom/pipeline"
)

// fleetProm is a Prometheus that saw the three shops of a verification
// evenly loaded (0.5 cores each) on a host whose 2 cores were 1.9 busy;
// every other query has no series.
func fleetProm(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q, start, end := r.Form.Get("query"), r.Form.Get("start"), r.Form.Get("end")
		perInstance := func(v string) string {
			var out []string
			for _, port := range []int{18082, 18083, 18084} {
				out = append(out, fmt.Sprintf(`{"metric":{"instance":"127.0.0.1:%d"},"values":[[%s,"%s"]]}`, port, end, v))
			}
			return strings.Join(out, ",")
		}
		var result string
		switch {
		case strings.Contains(q, "by (instance)") && strings.Contains(q, "http_request_duration_seconds_count"):
			result = perInstance("40")
		case strings.Contains(q, "by (instance)") && strings.Contains(q, "http_request_duration_seconds_sum"):
			result = perInstance("2") // 50 ms mean
		case strings.Contains(q, "by (instance)") && strings.Contains(q, "process_cpu_seconds_total"):
			result = perInstance("0.5")
		case strings.Contains(q, "node_cpu_seconds_total") && strings.Contains(q, `mode!="idle"`):
			result = fmt.Sprintf(`{"metric":{},"values":[[%s,"1.9"],[%s,"1.9"]]}`, start, end)
		case strings.Contains(q, "count(node_cpu_seconds_total"):
			result = fmt.Sprintf(`{"metric":{},"values":[[%s,"2"],[%s,"2"]]}`, start, end)
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, result)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// savedFleetStudy writes a study whose single instance carried 100 req/s
// and whose 3 instances carried 120 (40% of the prediction) over two
// verify steps of 10 s, with the findings it recorded.
func savedFleetStudy(t *testing.T, recorded []correlate.Finding) string {
	t.Helper()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	step := func(phase capacity.Phase, i int, at time.Duration, rate, p99 float64, v capacity.Verdict) capacity.Step {
		start := t0.Add(at)
		return capacity.Step{Index: i, Phase: phase, Rate: rate, Offered: rate, Achieved: rate, Throughput: rate,
			Latency: capacity.Latency{P99: p99}, Start: start.Add(2 * time.Second), End: start.Add(10 * time.Second), Seconds: 8, Elapsed: 10, Verdict: v}
	}
	st := capacity.Study{Plan: "shop", Capacity: capacity.Bounds{SingleInstanceRPS: 100},
		Steps: []capacity.Step{step(capacity.PhaseBaseline, 1, 0, 50, 30, capacity.Acceptable), step(capacity.PhaseExplore, 2, 20*time.Second, 100, 40, capacity.Acceptable),
			step(capacity.PhaseExplore, 3, 40*time.Second, 200, 900, capacity.Unacceptable)}}
	measured, ratio := 120.0, 0.4
	st.Prediction = capacity.Prediction{Instances: 3, PredictedRPS: 300, MeasuredRPS: &measured, Ratio: &ratio,
		Steps: []capacity.Step{step(capacity.PhaseVerify, 1, 60*time.Second, 120, 60, capacity.Acceptable), step(capacity.PhaseVerify, 2, 80*time.Second, 240, 1200, capacity.Unacceptable)}}
	b, _ := json.Marshal(pipeline.StudyResult{Kind: pipeline.KindStudy, Study: &st, Findings: recorded})
	path := filepath.Join(t.TempDir(), "study.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func correlateStudy(t *testing.T, args ...string) (string, correlate.Report) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "findings.json")
	var stdout, stderr bytes.Buffer
	if code := dispatch(append([]string{"correlate", "--out", out}, args...), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if testing.Verbose() {
		t.Logf("headroom correlate %s:\n%s", strings.Join(args, " "), stdout.String())
	}
	var rep correlate.Report
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return stdout.String(), rep
}

func scalingOf(t *testing.T, rep correlate.Report) correlate.Finding {
	t.Helper()
	last := rep.Findings[len(rep.Findings)-1]
	if last.Kind != correlate.KindScaling || last.Rank != len(rep.Findings) {
		t.Fatalf("last finding %s ranked %d of %d, want the scaling finding last", last.Kind, last.Rank, len(rep.Findings))
	}
	return last
}

// headroom correlate study.json rebuilds the scaling finding from the
// study's verify steps and what Prometheus holds for them.
func TestCorrelateCommandExplainsASavedFleetAgain(t *testing.T) {
	prom := fleetProm(t)
	planPath := writePlan(t, fmt.Sprintf(`version: 1
name: shop
target: { base_url: http://127.0.0.1:1 }
load:
  model: open
  stages: [ { duration: 1s, target: 1 } ]
journeys:
  - name: j
    steps: [ { get: / } ]
observe:
  prometheus: %s
  components:
    - { name: fleet, kind: service, selector: '{job="shop"}' }
    - { name: host, kind: host, selector: '{job="node"}' }
`, prom.URL), "")
	text, rep := correlateStudy(t, "--plan", planPath, savedFleetStudy(t, nil))
	f := scalingOf(t, rep)
	want := "3 instances carried 120 req/s, 40% of the 300 predicted (3 × 100): the 3 instances shared 2 cores: host CPU 95% from 120 req/s"
	if !strings.Contains(f.Title, want) {
		t.Errorf("scaling finding %q, want %q", f.Title, want)
	}
	if !strings.Contains(text, want) {
		t.Errorf("the output does not print the scaling finding:\n%s", text)
	}
	if !strings.Contains(strings.Join(f.Evidence.Facts, "\n"), "127.0.0.1:18082 33%") {
		t.Errorf("facts lack the instances' shares: %q", f.Evidence.Facts)
	}
	if strings.Contains(text, "pass --plan") {
		t.Errorf("asks for the plan it was given:\n%s", text)
	}
}

// Without the plan the study file lacks the components to read: the
// output says so, and a cause the study recorded when it ran is kept.
func TestCorrelateCommandSaysWhatASavedFleetLacks(t *testing.T) {
	text, rep := correlateStudy(t, savedFleetStudy(t, nil))
	f := scalingOf(t, rep)
	if !strings.Contains(f.Title, "could not be read") || !strings.Contains(text, f.Title) {
		t.Errorf("with nothing to read, scaling finding %q (printed: %v)", f.Title, strings.Contains(text, f.Title))
	}
	for _, want := range []string{"pass --plan plan.yaml", "observe.components names no component of kind service", "scaling: not available: no Prometheus"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	recorded := correlate.Finding{Rank: 2, Kind: correlate.KindScaling, Score: 0.9,
		Title:          "3 instances carried 120 req/s, 40% of the 300 predicted (3 × 100): instance 127.0.0.1:18082 received 60% of the requests (an even split is 33%): the balancer is not spreading them evenly",
		Evidence:       correlate.Evidence{Facts: []string{"share of the requests over the acceptable verify steps: 127.0.0.1:18082 60%, 127.0.0.1:18083 20%, 127.0.0.1:18084 20%"}},
		Recommendation: "Make the balancer spread requests evenly."}
	text, rep = correlateStudy(t, savedFleetStudy(t, []correlate.Finding{{Rank: 1, Kind: correlate.KindCPU, Title: "CPU"}, recorded}))
	f = scalingOf(t, rep)
	if f.Title != recorded.Title || !strings.Contains(text, recorded.Title) {
		t.Errorf("the study's recorded cause was not kept: %q", f.Title)
	}
	if !strings.Contains(text, "could not be read again") || !strings.Contains(text, "the one the study recorded when it ran") {
		t.Errorf("the output does not say the finding is the recorded one:\n%s", text)
	}
}

// A study whose fleet carried the prediction has no scaling finding.
func TestCorrelateCommandAddsNoScalingToALinearFleet(t *testing.T) {
	path := savedFleetStudy(t, nil)
	b, _ := os.ReadFile(path)
	b = bytes.Replace(b, []byte(`"ratio":0.4`), []byte(`"ratio":0.95`), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, rep := correlateStudy(t, path)
	for _, f := range rep.Findings {
		if f.Kind == correlate.KindScaling {
			t.Errorf("a scaling finding for a fleet at 95%% of the prediction: %s", f.Title)
		}
	}
}

// The scaling finding ranks last; below the top three the report prints,
// it is printed on its own, once.
func TestPrintScalingShowsAFindingBelowTheTopThree(t *testing.T) {
	rep := correlate.Report{}
	for i := 1; i <= 3; i++ {
		rep.Findings = append(rep.Findings, correlate.Finding{Rank: i, Kind: correlate.KindCPU, Title: fmt.Sprintf("finding %d", i)})
	}
	rep.Findings = append(rep.Findings, correlate.Finding{Rank: 4, Kind: correlate.KindScaling, Title: "3 instances carried 120 req/s: the 3 instances shared 2 cores",
		Evidence: correlate.Evidence{Facts: []string{"host: 1.90 of 2 cores busy (95%) at step 2"}}, Recommendation: "Verify on hosts that do not share cores."})
	var b bytes.Buffer
	printReport(&b, rep)
	printScaling(&b, rep)
	text := b.String()
	for _, want := range []string{"4. 3 instances carried 120 req/s: the 3 instances shared 2 cores  [scaling", "   - host: 1.90 of 2 cores busy", "   → Verify on hosts"} {
		if strings.Count(text, want) != 1 {
			t.Errorf("output has %q %d times, want once:\n%s", want, strings.Count(text, want), text)
		}
	}
	b.Reset()
	rep.Findings = rep.Findings[2:]
	rep.Findings[0].Rank, rep.Findings[1].Rank = 1, 2
	printReport(&b, rep)
	printScaling(&b, rep)
	if n := strings.Count(b.String(), "the 3 instances shared 2 cores"); n != 1 {
		t.Errorf("a scaling finding in the top three is printed %d times:\n%s", n, b.String())
	}
}
