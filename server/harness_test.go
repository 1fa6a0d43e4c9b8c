package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
)

// testServer is a real server on a loopback port over a temp SQLite file,
// with a token of each role.
type testServer struct {
	URL                     string
	st                      *store.Store
	viewer, operator, admin string
	stop                    func()
}

// startServer serves cfg over a fresh store until the test ends.
func startServer(t testing.TB, cfg server.Config) *testServer {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "headroom.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return startOn(t, st, cfg)
}

// startOn serves cfg over st until the test ends.
func startOn(t testing.TB, st *store.Store, cfg server.Config) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	srv, err := server.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	ts := &testServer{URL: "http://" + ln.Addr().String(), st: st}
	var once atomic.Bool
	ts.stop = func() {
		if once.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(ts.stop)
	for role, dst := range map[store.Role]*string{store.Viewer: &ts.viewer, store.Operator: &ts.operator, store.Admin: &ts.admin} {
		plain, _, err := st.CreateToken(context.Background(), "test-"+string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		*dst = plain
	}
	return ts
}

// do sends a request and decodes a JSON answer into out (when not nil);
// it returns the status and the raw body.
func (ts *testServer) do(t testing.TB, token, method, path, contentType string, body []byte, out any) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

func (ts *testServer) getJSON(t testing.TB, token, path string, out any) int {
	t.Helper()
	code, _ := ts.do(t, token, http.MethodGet, path, "", nil, out)
	return code
}

// createPlan posts YAML as the operator and returns the plan id.
func (ts *testServer) createPlan(t testing.TB, yaml string) int64 {
	t.Helper()
	var out struct{ ID int64 }
	code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/plans", "application/yaml", []byte(yaml), &out)
	if code != http.StatusCreated {
		t.Fatalf("create plan: %d %s", code, raw)
	}
	return out.ID
}

// startJob queues a job as the operator and returns its id.
func (ts *testServer) startJob(t testing.TB, planID int64, kind string, settings map[string]any) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"plan_id": planID, "kind": kind, "settings": settings})
	var out struct{ ID int64 }
	code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/jobs", "application/json", body, &out)
	if code != http.StatusAccepted {
		t.Fatalf("start job: %d %s", code, raw)
	}
	return out.ID
}

// job is the part of a job's JSON the tests read.
type job struct {
	ID       int64           `json:"id"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Phase    string          `json:"phase"`
	PlanID   int64           `json:"plan_id"`
	Started  *time.Time      `json:"started"`
	Finished *time.Time      `json:"finished"`
	Summary  json.RawMessage `json:"summary"`
	Error    string          `json:"error"`
}

// waitJob polls a job until done says so or the deadline passes.
func (ts *testServer) waitJob(t testing.TB, id int64, within time.Duration, done func(job) bool) job {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var j job
		if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d", id), &j); code != http.StatusOK {
			t.Fatalf("get job %d: %d", id, code)
		}
		if done(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s/%s after %s", id, j.Status, j.Phase, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isFinished is a waitJob condition.
func isFinished(j job) bool {
	switch j.Status {
	case "queued", "running":
		return false
	}
	return true
}

// target is a loopback service to send load to.
func target(t testing.TB) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// runPlan is a short open-model run against base.
func runPlan(name, base string, seconds int, rate int) string {
	return fmt.Sprintf(`version: 1
name: %s
target:
  base_url: %s
load:
  model: open
  stages:
    - { duration: %ds, target: %d }
journeys:
  - name: ping
    steps:
      - name: get ok
        get: /ok
        expect: { status: 200 }
      - name: get other
        get: /other
`, name, base, seconds, rate)
}

// studyPlan is a short capacity study against base that stops at max
// iterations/s.
func studyPlan(name, base string, step string, max int) string {
	return fmt.Sprintf(`version: 1
name: %s
target:
  base_url: %s
slo:
  p99: 500ms
load:
  model: open
  stages:
    - { duration: 1s, target: 10 }
journeys:
  - name: ping
    steps:
      - name: get ok
        get: /ok
abort:
  max_rate: %d/s
capacity:
  start_rate: 50
  step_duration: %s
  cooldown: 0s
`, name, base, max, step)
}

// contains reports whether s holds every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
