package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/server"
)

// windowsBody is the answer of /windows.
type windowsBody struct {
	Windows []struct {
		Start     time.Time
		DurationS float64 `json:"duration_s"`
		Name      string
		Requests  int64
		Latency   struct{ P99 float64 } `json:"latency_ms"`
	}
	Merged struct {
		Requests int64
		Latency  struct{ P50, P99, Max float64 } `json:"latency_ms"`
	}
}

func TestRunThroughTheAPI(t *testing.T) {
	ts := startServer(t, server.Config{})
	tgt := target(t)
	planID := ts.createPlan(t, runPlan("short", tgt.URL, 3, 20))
	id := ts.startJob(t, planID, "run", nil)
	j := ts.waitJob(t, id, time.Minute, isFinished)
	if j.Status != "passed" || j.Kind != "run" || j.PlanID != planID || j.Started == nil || j.Finished == nil {
		t.Fatalf("job: %+v", j)
	}
	var sum struct {
		Requests      int64
		Errors        int64
		ThroughputRPS float64               `json:"throughput_rps"`
		Latency       struct{ P99 float64 } `json:"latency_ms"`
	}
	if err := json.Unmarshal(j.Summary, &sum); err != nil || sum.Requests == 0 || sum.Latency.P99 <= 0 {
		t.Fatalf("summary %s: %v", j.Summary, err)
	}

	// Every second is stored for all requests and per name, and the span
	// merges to the run's totals.
	var all windowsBody
	ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows", id), &all)
	if len(all.Windows) < 3 || all.Merged.Requests != sum.Requests || all.Windows[0].Name != "all" {
		t.Fatalf("windows: %d, merged %d requests, summary %d", len(all.Windows), all.Merged.Requests, sum.Requests)
	}
	if all.Merged.Latency.P99 <= 0 || all.Merged.Latency.Max < all.Merged.Latency.P99 {
		t.Errorf("merged latency %+v", all.Merged.Latency)
	}
	var one windowsBody
	ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows?name=get+ok", id), &one)
	if len(one.Windows) != len(all.Windows) || one.Merged.Requests*2 != sum.Requests || one.Windows[0].Name != "get ok" {
		t.Errorf("per name: %d windows, %d requests of %d", len(one.Windows), one.Merged.Requests, sum.Requests)
	}
	// A time range keeps the seconds that start in it.
	from := all.Windows[1].Start
	var part windowsBody
	ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows?from=%d", id, from.UnixMilli()), &part)
	if len(part.Windows) != len(all.Windows)-1 {
		t.Errorf("from the second window: %d windows of %d", len(part.Windows), len(all.Windows))
	}

	var doc struct {
		Kind    string
		Outcome string
		Summary struct{ Requests int64 }
	}
	ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/result", id), &doc)
	if doc.Kind != "run" || doc.Outcome != "passed" || doc.Summary.Requests != sum.Requests {
		t.Errorf("result: %+v", doc)
	}
	var list struct {
		Jobs  []struct{ ID int64 }
		Total int
	}
	ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs?plan_id=%d&status=passed", planID), &list)
	if list.Total != 1 || len(list.Jobs) != 1 || list.Jobs[0].ID != id {
		t.Errorf("list: %+v", list)
	}
	if code, raw := ts.do(t, ts.operator, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/cancel", id), "", nil, nil); code != http.StatusConflict {
		t.Errorf("cancel a finished job: %d %s", code, raw)
	}
	if code, raw := ts.do(t, ts.operator, http.MethodPut, fmt.Sprintf("/api/v1/plans/%d/baseline", planID), "application/json",
		[]byte(fmt.Sprintf(`{"job_id":%d}`, id)), nil); code != http.StatusOK {
		t.Errorf("baseline: %d %s", code, raw)
	}
	var base struct {
		JobID int64 `json:"job_id"`
	}
	if ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/plans/%d/baseline", planID), &base); base.JobID != id {
		t.Errorf("baseline: %+v", base)
	}

	if code, raw := ts.do(t, ts.viewer, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d/report?format=text", id), "", nil, nil); code != http.StatusOK ||
		!contains(string(raw), "headroom run: short", "requests") {
		t.Errorf("text report: %d %s", code, raw)
	}

	// A second run of the unchanged target compares with the first.
	id2 := ts.startJob(t, planID, "run", nil)
	ts.waitJob(t, id2, time.Minute, isFinished)
	var cmp struct {
		Verdict string
		Names   []struct{ Name string }
	}
	if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/compare?a=%d&b=%d", id, id2), &cmp); code != http.StatusOK ||
		cmp.Verdict == "" || len(cmp.Names) == 0 || cmp.Names[0].Name != "all" {
		t.Errorf("compare: %d %+v", code, cmp)
	}
	// Reports of the second run (against the plan's baseline, the first).
	for format, ctype := range map[string]string{"html": "text/html", "md": "text/markdown", "junit": "application/xml"} {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/jobs/%d/report?format=%s", ts.URL, id2, format), nil)
		req.Header.Set("Authorization", "Bearer "+ts.viewer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("report %s: %d %s", format, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if code, _ := ts.do(t, ts.viewer, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d/report?format=docx", id2), "", nil, nil); code != http.StatusBadRequest {
		t.Errorf("report in an unknown format: %d", code)
	}
	if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/compare?a=%d&b=x", id), nil); code != http.StatusBadRequest {
		t.Errorf("compare with a bad id: %d", code)
	}
}

func TestCancelAndMetrics(t *testing.T) {
	ts := startServer(t, server.Config{})
	tgt := target(t)
	planID := ts.createPlan(t, runPlan("long", tgt.URL, 600, 20))
	id := ts.startJob(t, planID, "run", nil)
	ts.waitJob(t, id, time.Minute, func(j job) bool { return j.Status == "running" })

	// While it runs, /metrics shows its load by job and request name.
	deadline := time.Now().Add(time.Minute)
	for {
		_, raw := ts.do(t, "", http.MethodGet, "/metrics", "", nil, nil)
		m := string(raw)
		if contains(m, fmt.Sprintf(`headroom_load_requests_total{job="%d",name="get ok"}`, id),
			fmt.Sprintf(`headroom_load_latency_seconds_bucket{job="%d",name="all",le="0.01"}`, id), "headroom_jobs_running 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live load metrics for job %d:\n%s", id, grepLines(m, "headroom_"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, raw := ts.do(t, ts.operator, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/cancel", id), "", nil, nil); code != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", code, raw)
	}
	j := ts.waitJob(t, id, time.Minute, isFinished)
	if j.Status != "cancelled" {
		t.Fatalf("after cancel: %+v", j)
	}
	var w windowsBody
	if ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows", id), &w); len(w.Windows) == 0 {
		t.Errorf("a cancelled job keeps its windows")
	}
	// A queued job is cancelled at once.
	other := ts.startJob(t, planID, "run", map[string]any{"max_rate": 5})
	ts.do(t, ts.operator, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/cancel", other), "", nil, nil)
	if j := ts.waitJob(t, other, time.Minute, isFinished); j.Status != "cancelled" {
		t.Errorf("cancelled job: %+v", j)
	}
}

func TestGracefulShutdownCancelsJobs(t *testing.T) {
	ts := startServer(t, server.Config{})
	tgt := target(t)
	planID := ts.createPlan(t, runPlan("long", tgt.URL, 600, 20))
	id := ts.startJob(t, planID, "run", nil)
	ts.waitJob(t, id, time.Minute, func(j job) bool { return j.Status == "running" })
	var w windowsBody
	deadline := time.Now().Add(time.Minute)
	for ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows", id), &w); len(w.Windows) < 2; ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/windows", id), &w) {
		if time.Now().After(deadline) {
			t.Fatal("no windows")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.stop()
	j, err := ts.st.GetJob(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != "cancelled" || len(j.Result) == 0 || !strings.Contains(j.Error, "shut down") {
		t.Errorf("after shutdown: status %s, error %q, %d bytes of result", j.Status, j.Error, len(j.Result))
	}
}

// grepLines keeps the lines of s that hold sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
