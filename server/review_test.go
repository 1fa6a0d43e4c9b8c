package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
)

// TestReviewFindsRegression runs a schedule's review against a loopback
// target, makes that run the baseline, slows the target down and reviews
// again: the second review is a regression against the first.
func TestReviewFindsRegression(t *testing.T) {
	var delay atomic.Int64
	tgt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(tgt.Close)
	ts := startServer(t, server.Config{})
	ctx := context.Background()
	// Twelve seconds: enough per-second values for the rank test to tell
	// after the Holm–Bonferroni correction over its 10 tests (2 names × 5
	// metrics); 7 against 7 seconds cannot go below p ≈ 0.0017, 0.017
	// adjusted, above α = 0.01.
	planID := ts.createPlan(t, runPlan("nightly", tgt.URL, 12, 30))
	later := time.Now().Add(time.Hour)
	sc, err := ts.st.CreateSchedule(ctx, store.Schedule{PlanID: planID, Kind: "run", Cron: "@every 1h", Enabled: true, NextRun: &later})
	if err != nil {
		t.Fatal(err)
	}
	// trigger makes the schedule due now, as if its hour had passed.
	trigger := func() {
		t.Helper()
		now := time.Now().Add(-time.Second)
		sc.NextRun = &now
		if _, err := ts.st.UpdateSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	trigger()
	first := waitReviews(t, ts, sc.ID, 2*time.Minute, func(rs []review) bool { return len(rs) == 1 })[0]
	if first.Verdict != "pass" || first.BaselineJobID != 0 {
		t.Fatalf("first review %+v, want a pass without baseline", first)
	}
	if err := ts.st.SetBaseline(ctx, planID, first.JobID); err != nil {
		t.Fatal(err)
	}

	delay.Store(int64(25 * time.Millisecond))
	trigger()
	rs := waitReviews(t, ts, sc.ID, 2*time.Minute, func(rs []review) bool { return len(rs) == 2 })
	second := rs[0]
	if second.Verdict != "regression" || second.BaselineJobID != first.JobID || len(second.Reasons) == 0 {
		t.Fatalf("review of the slowed target %+v, want a regression against job %d", second, first.JobID)
	}
	// 25 ms on a near-instant answer moves every percentile; the median
	// always shows it, the tail may be noisy on a loaded machine.
	if !strings.Contains(strings.Join(second.Reasons, " "), "all p50") {
		t.Fatalf("regression reasons %q do not name the overall p50", second.Reasons)
	}
	var j struct {
		Verdict string `json:"verdict"`
	}
	if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d", second.JobID), &j); code != 200 || j.Verdict != "regression" {
		t.Fatalf("the job's verdict: %d %q, want regression", code, j.Verdict)
	}
}
