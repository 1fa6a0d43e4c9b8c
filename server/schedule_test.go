package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
	"github.com/headroom-sre/headroom/store/storetest"
)

// schedule is the part of a schedule's JSON the tests read.
type schedule struct {
	ID      int64      `json:"id"`
	PlanID  int64      `json:"plan_id"`
	Kind    string     `json:"kind"`
	Cron    string     `json:"cron"`
	Webhook string     `json:"webhook"`
	Enabled bool       `json:"enabled"`
	LastRun *time.Time `json:"last_run"`
	NextRun *time.Time `json:"next_run"`
}

// review is the part of a review's JSON the tests read.
type review struct {
	ID              int64    `json:"id"`
	ScheduleID      int64    `json:"schedule_id"`
	JobID           int64    `json:"job_id"`
	BaselineJobID   int64    `json:"baseline_job_id"`
	Verdict         string   `json:"verdict"`
	Reasons         []string `json:"reasons"`
	WebhookStatus   string   `json:"webhook_status"`
	WebhookAttempts int      `json:"webhook_attempts"`
}

func postJSON(t *testing.T, ts *testServer, token, method, path string, body any, out any) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(body)
	code, resp := ts.do(t, token, method, path, "application/json", raw, out)
	return code, string(resp)
}

func TestSchedulesAPI(t *testing.T) {
	tgt := target(t)
	ts := startServer(t, server.Config{})
	planID := ts.createPlan(t, runPlan("nightly", tgt.URL, 1, 5))
	// A plan stored before the allow-list changed (the API refuses it now).
	op, err := ts.st.CreatePlan(context.Background(), "elsewhere", runPlan("elsewhere", "http://203.0.113.9:8080", 1, 5))
	if err != nil {
		t.Fatal(err)
	}
	outside := op.ID

	var sc schedule
	code, body := postJSON(t, ts, ts.admin, http.MethodPost, "/api/v1/schedules",
		map[string]any{"plan_id": planID, "kind": "study", "cron": "0 2 * * *", "webhook": "http://127.0.0.1:9/hook"}, &sc)
	if code != http.StatusCreated || sc.ID == 0 || !sc.Enabled || sc.NextRun == nil || !sc.NextRun.After(time.Now()) || sc.LastRun != nil {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := postJSON(t, ts, ts.operator, http.MethodPost, "/api/v1/schedules",
		map[string]any{"plan_id": planID, "kind": "run", "cron": "@hourly"}, nil); code != http.StatusForbidden {
		t.Fatalf("an operator creating a schedule: %d %s, want 403", code, body)
	}

	bad := []struct {
		name string
		body map[string]any
		code int
		says string
	}{
		{"bad cron", map[string]any{"plan_id": planID, "kind": "run", "cron": "every night"}, 422, "cron"},
		{"bad kind", map[string]any{"plan_id": planID, "kind": "soak", "cron": "@hourly"}, 422, "kind"},
		{"no plan", map[string]any{"plan_id": 999, "kind": "run", "cron": "@hourly"}, 422, "no such plan"},
		{"plan outside the allow-list", map[string]any{"plan_id": outside, "kind": "run", "cron": "@hourly"}, 422, "203.0.113.9"},
		{"webhook host outside its allow-list", map[string]any{"plan_id": planID, "kind": "run", "cron": "@hourly",
			"webhook": "https://hooks.slack.com/services/x"}, 422, "hooks.slack.com"},
		{"webhook not http", map[string]any{"plan_id": planID, "kind": "run", "cron": "@hourly", "webhook": "ftp://127.0.0.1/x"}, 422, "http"},
		{"unknown field", map[string]any{"plan_id": planID, "kind": "run", "cron": "@hourly", "every": "1h"}, 400, "every"},
	}
	for _, tc := range bad {
		code, body := postJSON(t, ts, ts.admin, http.MethodPost, "/api/v1/schedules", tc.body, nil)
		if code != tc.code || !strings.Contains(body, tc.says) || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want %d naming %q", tc.name, code, body, tc.code, tc.says)
		}
	}

	var got schedule
	if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/schedules/%d", sc.ID), &got); code != 200 || got.Cron != "0 2 * * *" || got.Kind != "study" {
		t.Fatalf("get: %d %+v", code, got)
	}
	var up schedule
	code, body = postJSON(t, ts, ts.admin, http.MethodPut, fmt.Sprintf("/api/v1/schedules/%d", sc.ID),
		map[string]any{"cron": "30 3 * * *", "enabled": false}, &up)
	if code != 200 || up.Cron != "30 3 * * *" || up.Enabled || up.Kind != "study" || up.Webhook != "http://127.0.0.1:9/hook" {
		t.Fatalf("put: %d %s (absent fields keep their values)", code, body)
	}
	if code, body := postJSON(t, ts, ts.admin, http.MethodPut, fmt.Sprintf("/api/v1/schedules/%d", sc.ID),
		map[string]any{"cron": "nope"}, nil); code != 422 {
		t.Fatalf("put a bad cron: %d %s", code, body)
	}
	var list struct{ Schedules []schedule }
	if code := ts.getJSON(t, ts.viewer, "/api/v1/schedules", &list); code != 200 || len(list.Schedules) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	var reviews struct{ Reviews []review }
	if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/schedules/%d/reviews", sc.ID), &reviews); code != 200 || len(reviews.Reviews) != 0 {
		t.Fatalf("reviews of a schedule that never ran: %d %+v", code, reviews)
	}
	if code, _ := ts.do(t, ts.viewer, http.MethodGet, "/api/v1/reviews?limit=0", "", nil, nil); code != 400 {
		t.Fatalf("reviews?limit=0: %d, want 400", code)
	}
	if code, _ := ts.do(t, ts.admin, http.MethodDelete, fmt.Sprintf("/api/v1/schedules/%d", sc.ID), "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	for _, path := range []string{"/api/v1/schedules/%d", "/api/v1/schedules/%d/reviews"} {
		if code, _ := ts.do(t, ts.viewer, http.MethodGet, fmt.Sprintf(path, sc.ID), "", nil, nil); code != http.StatusNotFound {
			t.Fatalf("GET %s after delete: %d, want 404", fmt.Sprintf(path, sc.ID), code)
		}
	}
}

// hookReceiver is a loopback webhook receiver that keeps what it got.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	msgs []map[string]any
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &m) != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// waitReviews polls the reviews of schedule id until ok says so.
func waitReviews(t *testing.T, ts *testServer, id int64, within time.Duration, ok func([]review) bool) []review {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out struct{ Reviews []review }
		if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/schedules/%d/reviews", id), &out); code != 200 {
			t.Fatalf("reviews: %d", code)
		}
		if ok(out.Reviews) {
			return out.Reviews
		}
		if time.Now().After(deadline) {
			t.Fatalf("reviews of schedule %d after %v: %+v", id, within, out.Reviews)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScheduleRunsReviewsAndDelivers sets a schedule to every 2 seconds: it
// runs the plan, stores a review, and delivers the webhook to a loopback
// receiver; with a baseline set, the next review compares against it.
func TestScheduleRunsReviewsAndDelivers(t *testing.T) {
	tgt := target(t)
	hook := newHookReceiver(t)
	ts := startServer(t, server.Config{MinScheduleInterval: time.Second})
	planID := ts.createPlan(t, runPlan("nightly", tgt.URL, 1, 20))
	var sc schedule
	code, body := postJSON(t, ts, ts.admin, http.MethodPost, "/api/v1/schedules",
		map[string]any{"plan_id": planID, "kind": "run", "cron": "*/2 * * * * *", "webhook": hook.URL + "/hook"}, &sc)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	delivered := func(rs []review) bool {
		return len(rs) > 0 && rs[len(rs)-1].WebhookStatus == "delivered"
	}
	first := waitReviews(t, ts, sc.ID, time.Minute, delivered)
	r := first[len(first)-1]
	if r.JobID == 0 || r.Verdict != "pass" || r.BaselineJobID != 0 || r.WebhookAttempts != 1 || len(r.Reasons) == 0 ||
		!strings.Contains(r.Reasons[0], "no baseline") {
		t.Fatalf("first review %+v, want a pass without baseline, delivered at once", r)
	}
	j := ts.waitJob(t, r.JobID, time.Second, isFinished)
	if j.Status != "passed" || j.Kind != "run" || j.PlanID != planID {
		t.Fatalf("the review's job: %+v", j)
	}
	hook.mu.Lock()
	msg := hook.msgs[0]
	hook.mu.Unlock()
	hr, _ := msg["headroom"].(map[string]any)
	if text, _ := msg["text"].(string); !strings.Contains(text, "nightly") || !strings.Contains(text, "pass") ||
		hr == nil || hr["verdict"] != "pass" || !strings.HasSuffix(fmt.Sprint(hr["link"]), fmt.Sprintf("/jobs/%d", r.JobID)) {
		t.Fatalf("webhook message %v", msg)
	}

	// The first review's job becomes the baseline; a later review compares with it.
	if code, body := postJSON(t, ts, ts.operator, http.MethodPut, fmt.Sprintf("/api/v1/plans/%d/baseline", planID),
		map[string]any{"job_id": r.JobID}, nil); code >= 300 {
		t.Fatalf("set baseline: %d %s", code, body)
	}
	later := waitReviews(t, ts, sc.ID, time.Minute, func(rs []review) bool {
		return len(rs) > 0 && rs[0].BaselineJobID == r.JobID && rs[0].WebhookStatus == "delivered"
	})
	if v := later[0].Verdict; v != "pass" && v != "regression" {
		t.Fatalf("review against the baseline: %+v", later[0])
	}
	var all struct{ Reviews []review }
	if code := ts.getJSON(t, ts.viewer, "/api/v1/reviews?limit=1", &all); code != 200 || len(all.Reviews) != 1 {
		t.Fatalf("reviews?limit=1: %d %+v", code, all)
	}
	// Disable it so it stops queueing runs while the test ends.
	postJSON(t, ts, ts.admin, http.MethodPut, fmt.Sprintf("/api/v1/schedules/%d", sc.ID), map[string]any{"enabled": false}, nil)
}

// TestScheduleMissedWhileDown starts a server on a store whose schedule came
// due an hour ago: it runs once at start, and its next run is the next
// time from now; a disabled schedule that came due does not run.
func TestScheduleMissedWhileDown(t *testing.T) {
	tgt := target(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "headroom.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := st.CreatePlan(ctx, "nightly", runPlan("nightly", tgt.URL, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(-time.Hour)
	missed, err := st.CreateSchedule(ctx, store.Schedule{PlanID: p.ID, Kind: "run", Cron: "@every 1h", Enabled: true, NextRun: &due})
	if err != nil {
		t.Fatal(err)
	}
	off, err := st.CreateSchedule(ctx, store.Schedule{PlanID: p.ID, Kind: "run", Cron: "@every 1h", Enabled: false, NextRun: &due})
	if err != nil {
		t.Fatal(err)
	}
	ts := startOn(t, st, server.Config{})
	rs := waitReviews(t, ts, missed.ID, time.Minute, func(rs []review) bool { return len(rs) > 0 })
	if len(rs) != 1 || rs[0].Verdict != "pass" || rs[0].WebhookStatus != "none" {
		t.Fatalf("reviews of the missed schedule: %+v, want one pass without webhook", rs)
	}
	got, err := st.GetSchedule(ctx, missed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastRun == nil || got.NextRun == nil || got.NextRun.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("after the catch-up run: last %v next %v, want next an hour from the run", got.LastRun, got.NextRun)
	}
	if rs, _ := st.ListReviews(ctx, off.ID); len(rs) != 0 {
		t.Fatalf("a disabled schedule ran: %+v", rs)
	}
	if sc, _ := st.GetSchedule(ctx, off.ID); sc.LastRun != nil {
		t.Fatalf("a disabled schedule has a last run: %v", sc.LastRun)
	}
}

// TestTwoServersStartADueScheduleOnce has two servers on one PostgreSQL see
// the same due schedule: one review, one job. (Their ticks seldom meet, so
// this passes without the claim too; store's TestClaimScheduleRunOnce is the
// test of the claim itself.)
func TestTwoServersStartADueScheduleOnce(t *testing.T) {
	tgt := target(t)
	dsn := storetest.StartPostgres(t)
	ctx := context.Background()
	var stores []*store.Store
	for range 2 {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	p, err := stores[0].CreatePlan(ctx, "nightly", runPlan("nightly", tgt.URL, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(-time.Minute)
	sc, err := stores[0].CreateSchedule(ctx, store.Schedule{PlanID: p.ID, Kind: "run", Cron: "@every 1h", Enabled: true, NextRun: &due})
	if err != nil {
		t.Fatal(err)
	}
	a := startOn(t, stores[0], server.Config{Owner: "server-a"})
	startOn(t, stores[1], server.Config{Owner: "server-b"})
	rs := waitReviews(t, a, sc.ID, time.Minute, func(rs []review) bool { return len(rs) > 0 })
	// Both schedulers have looked many times (every 50 ms) while the run took a second.
	jobs, total, err := stores[0].ListJobs(ctx, store.JobFilter{PlanID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || total != 1 || jobs[0].ID != rs[0].JobID {
		t.Fatalf("%d reviews and %d jobs of the schedule, want one of each", len(rs), total)
	}
}
