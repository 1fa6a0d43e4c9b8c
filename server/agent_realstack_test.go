package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
)

// agentProcess is one `headroom agent` subprocess.
type agentProcess struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan error
}

func (a *agentProcess) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

// startAgent starts `headroom agent` against url; it is killed by its PID
// when the test ends if it has not exited by itself.
func startAgent(t *testing.T, bin, url, token, name string, jobs int) *agentProcess {
	t.Helper()
	cmd := exec.Command(bin, "agent", "--server", url, "--token", token, "--name", name, "--jobs", strconv.Itoa(jobs), "--give-up", "10s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agentProcess{cmd: cmd, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			a.mu.Lock()
			a.log.WriteString(sc.Text() + "\n")
			a.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		a.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			_ = cmd.Process.Kill()
			<-a.done
		}
	})
	return a
}

// startShop serves the demo shop on a free loopback port until the test ends.
func startShop(t *testing.T) string {
	t.Helper()
	return startShopWith(t, shop.Config{})
}

// startShopWith is startShop with the shop's knobs.
func startShopWith(t *testing.T, cfg shop.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.DBPath, cfg.Products, cfg.Users = ln.Addr().String(), filepath.Join(t.TempDir(), "shop.db"), 50, 10
	srv, err := shop.New(context.Background(), cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("shop: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

var shopCount = regexp.MustCompile(`(?m)^http_request_duration_seconds_count\{[^}]*route="GET /v1/products"[^}]*\} (\d+)$`)

// shopRequests is the shop's own count of the requests it served on
// GET /v1/products, every status, from its /metrics.
func shopRequests(t *testing.T, base string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var n int64
	for _, m := range shopCount.FindAllStringSubmatch(string(raw), -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n
}

// agentsJob is the part of a job on agents the test reads.
type agentsJob struct {
	job
	Agents []struct {
		AgentID  int64  `json:"agent_id"`
		Name     string `json:"name"`
		Index    int    `json:"index"`
		State    string `json:"state"`
		Requests int64  `json:"requests"`
		Windows  int64  `json:"windows"`
		Error    string `json:"error"`
	} `json:"agents"`
	StartSpreadMs *float64 `json:"start_spread_ms"`
}

func agentsPlan(name, base string, seconds, rate int) string {
	return fmt.Sprintf(`version: 1
name: %s
target:
  base_url: %s
  timeout: 5s
slo:
  p99: 2s
load:
  model: open
  stages:
    - { duration: 1s, target: %d }
    - { duration: %ds, target: %d }
journeys:
  - name: browse
    steps:
      - name: list products
        get: /v1/products?page=1&per_page=5
`, name, base, rate, seconds-1, rate)
}

// TestRunOnThreeAgents: a real server and store, three `headroom agent`
// processes and the demo shop, all on loopback. A run on the three agents
// completes with the shop serving exactly the requests the fleet counted,
// the agents starting within 50 ms of each other; then an agent killed
// mid-run is reported in the job's status, error and agent list, and the
// agents left stop by themselves when the job ends.
func TestRunOnThreeAgents(t *testing.T) {
	bin := buildHeadroom(t)
	shopURL := startShop(t)
	ts := startServer(t, server.Config{AgentWait: 30 * time.Second})
	agentTok, _, err := ts.st.CreateToken(context.Background(), "agents", store.AgentRole)
	if err != nil {
		t.Fatal(err)
	}
	// An agent token can do nothing else; another role cannot act as an agent.
	if code := ts.getJSON(t, agentTok, "/api/v1/jobs", nil); code != http.StatusForbidden {
		t.Errorf("an agent token listing jobs: %d, want 403", code)
	}
	if code, raw := ts.do(t, ts.admin, http.MethodPost, "/headroom.agent.v1.AgentService/Register", "application/json", []byte(`{"name":"x"}`), nil); code != http.StatusForbidden {
		t.Errorf("an admin token registering as an agent: %d %s, want 403", code, raw)
	}

	var agents []*agentProcess
	for i := range 3 {
		agents = append(agents, startAgent(t, bin, ts.URL, agentTok, fmt.Sprintf("agent-%d", i+1), 2))
	}
	before := shopRequests(t, shopURL)
	planID := ts.createPlan(t, agentsPlan("fleet-run", shopURL, 6, 60))
	id := startAgentsJob(t, ts, planID, "run", 3)
	j := waitAgentsJob(t, ts, id, 90*time.Second, func(j agentsJob) bool { return isFinished(j.job) }, agents)
	if j.Status != "passed" {
		t.Fatalf("the run on 3 agents is %s (%s); agent log:\n%s", j.Status, j.Error, agents[0].output())
	}
	var sum struct {
		Requests   int64 `json:"requests"`
		Iterations int64 `json:"iterations"`
	}
	if err := json.Unmarshal(j.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	served := shopRequests(t, shopURL) - before
	t.Logf("fleet: %d requests (%d iterations); the shop served %d; start spread %v ms", sum.Requests, sum.Iterations, served, deref(j.StartSpreadMs))
	if sum.Requests == 0 || served != sum.Requests {
		t.Errorf("the shop served %d requests, the fleet counted %d", served, sum.Requests)
	}
	// 1 s ramp to 60/s, then 5 s at 60/s: the schedule's 330 arrivals, all offered.
	if sum.Iterations != 330 {
		t.Errorf("the fleet started %d iterations, want the plan's 330", sum.Iterations)
	}
	if len(j.Agents) != 3 {
		t.Fatalf("agents %+v, want 3", j.Agents)
	}
	var byAgents int64
	for _, a := range j.Agents {
		byAgents += a.Requests
		if a.State != "done" || a.Windows == 0 || a.Requests < sum.Requests/3-2 {
			t.Errorf("agent %+v: want done with about a third of %d requests", a, sum.Requests)
		}
	}
	if byAgents != sum.Requests {
		t.Errorf("the agents' requests add up to %d, the merged run has %d", byAgents, sum.Requests)
	}
	if j.StartSpreadMs == nil || *j.StartSpreadMs >= 50 {
		t.Errorf("start spread %v ms, want under 50", deref(j.StartSpreadMs))
	}

	// Kill one agent mid-run: the job says so.
	planID = ts.createPlan(t, agentsPlan("fleet-kill", shopURL, 20, 30))
	id = startAgentsJob(t, ts, planID, "run", 3)
	mid := waitAgentsJob(t, ts, id, 60*time.Second, func(j agentsJob) bool {
		if !isFinished(j.job) && len(j.Agents) == 3 {
			for _, a := range j.Agents {
				if a.State != "running" || a.Windows < 2 {
					return false
				}
			}
			return true
		}
		return isFinished(j.job)
	}, agents)
	if isFinished(mid.job) {
		t.Fatalf("the second job ended before an agent could be killed: %s %q; agent log:\n%s", mid.Status, mid.Error, agents[1].output())
	}
	killed := agents[1]
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill agent 2: %v; its log:\n%s", err, killed.output())
	}
	j = waitAgentsJob(t, ts, id, 60*time.Second, func(j agentsJob) bool { return isFinished(j.job) }, agents)
	if j.Status != "failed" || !contains(j.Error, "disappeared", "invalid", "policy: abort") {
		t.Fatalf("after an agent was killed the job is %s: %q", j.Status, j.Error)
	}
	lost := 0
	for _, a := range j.Agents {
		if a.State == "lost" {
			lost++
			if !strings.Contains(a.Error, "disappeared") {
				t.Errorf("the lost agent's error: %q", a.Error)
			}
		}
	}
	if lost != 1 {
		t.Errorf("%d agents lost, want 1: %+v", lost, j.Agents)
	}
	t.Logf("job %d: %s", id, j.Error)
	// The two agents left ran their two jobs and stop by themselves.
	for i, a := range agents {
		if a == killed {
			continue
		}
		select {
		case err := <-a.done:
			if err != nil {
				t.Errorf("agent %d exited with %v:\n%s", i+1, err, a.output())
			}
			a.done <- err
		case <-time.After(30 * time.Second):
			t.Errorf("agent %d still runs after its jobs ended:\n%s", i+1, a.output())
		}
	}
}

func startAgentsJob(t *testing.T, ts *testServer, planID int64, kind string, agents int) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"plan_id": planID, "kind": kind, "agents": agents})
	var out struct{ ID int64 }
	code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/jobs", "application/json", body, &out)
	if code != http.StatusAccepted {
		t.Fatalf("start a job on agents: %d %s", code, raw)
	}
	return out.ID
}

func waitAgentsJob(t *testing.T, ts *testServer, id int64, within time.Duration, done func(agentsJob) bool, agents []*agentProcess) agentsJob {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var j agentsJob
		if code := ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d", id), &j); code != http.StatusOK {
			t.Fatalf("get job %d: %d", id, code)
		}
		if done(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s/%s after %s; agents %+v; an agent's log:\n%s", id, j.Status, j.Phase, within, j.Agents, agents[0].output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestStudyOnThreeAgents: a capacity study on three `headroom agent`
// processes against a shop that carries at most 2 requests at once of
// 20 ms each (about 100 req/s): the search judges the merged seconds and
// finds a capacity below that, the agents start within 50 ms of each
// other in every step, and the shop served every request the fleet counted.
func TestStudyOnThreeAgents(t *testing.T) {
	bin := buildHeadroom(t)
	shopURL := startShopWith(t, shop.Config{Capacity: 2, ServiceTime: 20 * time.Millisecond})
	ts := startServer(t, server.Config{AgentWait: 30 * time.Second})
	agentTok, _, err := ts.st.CreateToken(context.Background(), "agents", store.AgentRole)
	if err != nil {
		t.Fatal(err)
	}
	var agents []*agentProcess
	for i := range 3 {
		agents = append(agents, startAgent(t, bin, ts.URL, agentTok, fmt.Sprintf("agent-%d", i+1), 1))
	}
	before := shopRequests(t, shopURL)
	planID := ts.createPlan(t, fmt.Sprintf(`version: 1
name: fleet-study
target:
  base_url: %s
  timeout: 5s
slo:
  p99: 150ms
load:
  model: open
  stages:
    - { duration: 2s, target: 20 }
journeys:
  - name: browse
    steps:
      - name: list products
        get: /v1/products?page=1&per_page=5
capacity:
  start_rate: 20
  step_duration: 2s
  precision: 25%%
  cooldown: 1s
abort:
  max_rate: 400/s
`, shopURL))
	id := startAgentsJob(t, ts, planID, "study", 3)
	j := waitAgentsJob(t, ts, id, 3*time.Minute, func(j agentsJob) bool { return isFinished(j.job) }, agents)
	if j.Status != "passed" {
		t.Fatalf("the study on 3 agents is %s (%s); agent log:\n%s", j.Status, j.Error, agents[0].output())
	}
	var sum struct {
		Requests int64 `json:"requests"`
		Capacity struct {
			SingleInstanceRPS float64 `json:"single_instance_rps"`
		} `json:"capacity"`
	}
	if err := json.Unmarshal(j.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	var steps struct {
		Steps []json.RawMessage `json:"steps"`
	}
	ts.getJSON(t, ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/steps", id), &steps)
	served := shopRequests(t, shopURL) - before
	t.Logf("study: capacity %.1f req/s over %d steps; fleet %d requests, the shop served %d; worst start spread %v ms",
		sum.Capacity.SingleInstanceRPS, len(steps.Steps), sum.Requests, served, deref(j.StartSpreadMs))
	if sum.Capacity.SingleInstanceRPS <= 10 || sum.Capacity.SingleInstanceRPS > 110 {
		t.Errorf("capacity %.1f req/s, want a figure under the shop's ~100 req/s", sum.Capacity.SingleInstanceRPS)
	}
	if len(steps.Steps) < 3 {
		t.Errorf("%d steps, want a search; the steps: %s", len(steps.Steps), steps.Steps)
	}
	// Requests a step's early stop cut off reached the shop but are counted as cancelled.
	if served < sum.Requests || sum.Requests == 0 {
		t.Errorf("the shop served %d requests, the fleet counted %d", served, sum.Requests)
	}
	if j.StartSpreadMs == nil || *j.StartSpreadMs >= 50 {
		t.Errorf("worst start spread %v ms, want under 50", deref(j.StartSpreadMs))
	}
	for _, a := range j.Agents {
		if a.State != "done" {
			t.Errorf("agent %+v: want done", a)
		}
	}
}
