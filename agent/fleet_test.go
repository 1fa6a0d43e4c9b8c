package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/proto/headroom/agent/v1/agentv1connect"
	"github.com/headroom-sre/headroom/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// rig is a Fleet served over h2c on loopback, a store under it and a
// counting target to send load to.
type rig struct {
	fleet  *Fleet
	st     *store.Store
	srv    *httptest.Server
	target *httptest.Server
	hits   atomic.Int64
	token  string
}

func newRig(t *testing.T, o FleetOptions) *rig {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{st: st}
	o.Log = quiet
	r.fleet = NewFleet(st, o)
	plain, tok, err := st.CreateToken(context.Background(), "agents", store.AgentRole)
	if err != nil {
		t.Fatal(err)
	}
	r.token = plain
	path, h := agentv1connect.NewAgentServiceHandler(r.fleet)
	mux := http.NewServeMux()
	mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The server's own middleware checks the token's role; here one token is the agents'.
		h.ServeHTTP(w, req.WithContext(WithToken(req.Context(), tok.ID)))
	}))
	r.srv = httptest.NewUnstartedServer(mux)
	r.srv.Config.Protocols = new(http.Protocols)
	r.srv.Config.Protocols.SetHTTP1(true)
	r.srv.Config.Protocols.SetUnencryptedHTTP2(true)
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	r.target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.target.Close)
	return r
}

// agent runs one in-process agent until ctx ends or its jobs are done.
func (r *rig) agent(ctx context.Context, t *testing.T, name string, wg *sync.WaitGroup, errs chan<- error) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- Run(ctx, Config{Server: r.srv.URL, Token: r.token, Name: name, Log: quiet, GiveUp: 3 * time.Second})
	}()
}

// fleetOf starts n in-process agents named a0, a1, … until ctx ends, and
// waits until all are connected.
func (r *rig) fleetOf(ctx context.Context, t *testing.T, n int) (*sync.WaitGroup, chan error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		r.agent(ctx, t, fmt.Sprintf("a%d", i), &wg, errs)
	}
	waitAgents(t, r.fleet, n)
	return &wg, errs
}

// job stores the plan text under name and a run job of it, and returns
// the fleet's Job of it on n agents.
func (r *rig) job(ctx context.Context, t *testing.T, name, yaml string, n int) (*Job, int64) {
	t.Helper()
	pl, err := r.st.CreatePlan(ctx, name, yaml)
	if err != nil {
		t.Fatal(err)
	}
	job, err := r.st.CreateJob(ctx, store.Job{PlanID: pl.ID, PlanVersion: pl.Version, Kind: "run"})
	if err != nil {
		t.Fatal(err)
	}
	return r.fleet.Job(job.ID, n, name+".yaml", []byte(yaml)), job.ID
}

func (r *rig) plan(t *testing.T, seconds, rate int) (*plan.Plan, []byte) {
	t.Helper()
	yaml := fmt.Sprintf(`version: 1
name: fleet
target: { base_url: %s }
load:
  model: open
  stages: [{ duration: %ds, target: %d }]
journeys:
  - name: j
    steps:
      - { name: hit, get: /x }
`, r.target.URL, seconds, rate)
	p, err := plan.Parse("fleet.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p, []byte(yaml)
}

func waitAgents(t *testing.T, f *Fleet, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		live := 0
		for _, a := range f.Agents() {
			if a.Connected {
				live++
			}
		}
		if live >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d agents connected", live, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFleetRunsOneScheduleSplit: three agents offer one plan's schedule
// between them; the merged seconds reach OnSecond in order and the
// fleet's result counts exactly what the target served.
func TestFleetRunsOneScheduleSplit(t *testing.T) {
	r := newRig(t, FleetOptions{Wait: 20 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg, errs := r.fleetOf(ctx, t, 3)
	p, yaml := r.plan(t, 3, 40)
	j, jobID := r.job(ctx, t, "fleet", string(yaml), 3)
	var secs []generator.Second
	res, err := j.Run(ctx, p, generator.Options{OnSecond: func(s generator.Second) { secs = append(secs, s) }})
	j.Close("passed")
	if err != nil {
		t.Fatal(err)
	}
	// A ramp from 0 to 40/s over 3 s: 60 arrivals, 20 for each agent.
	if res.Summary.Requests != 60 || res.Summary.Iterations != 60 || r.hits.Load() != 60 {
		t.Fatalf("fleet: %d requests, %d iterations; the target served %d; want 60 each", res.Summary.Requests, res.Summary.Iterations, r.hits.Load())
	}
	if len(secs) != 3 || len(res.Seconds) != 3 {
		t.Fatalf("%d merged seconds delivered, %d kept, want 3", len(secs), len(res.Seconds))
	}
	for i, s := range secs {
		if want := 40 * (float64(i) + 0.5) / 3; s.Offered < want-1 || s.Offered > want+1 {
			t.Errorf("second %d offered %.2f/s, want the plan's %.2f", i, s.Offered, want)
		}
	}
	shards, err := r.st.Shards(ctx, jobID)
	if err != nil || len(shards) != 3 {
		t.Fatalf("shards %v %v", shards, err)
	}
	for _, sh := range shards {
		if sh.State != store.ShardDone || sh.Requests != 20 {
			t.Errorf("shard %+v: want done with 20 requests", sh)
		}
	}
	rounds, _ := r.st.Rounds(ctx, jobID)
	if len(rounds) != 1 || rounds[0].SpreadMs == nil {
		t.Fatalf("rounds %+v", rounds)
	}
	// The agents ran their one job and stop by themselves.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("agents still running after their job ended")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("agent: %v", err)
		}
	}
}

// TestFleetReportsALostAgent: an agent that disappears mid-round ends the
// round with ErrAgentLost naming it, and its shard is marked lost.
func TestFleetReportsALostAgent(t *testing.T) {
	r := newRig(t, FleetOptions{Wait: 20 * time.Second, Lease: 2 * time.Second, Reconnect: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	r.agent(ctx, t, "stays", &wg, errs)
	waitAgents(t, r.fleet, 1)
	goneCtx, kill := context.WithCancel(ctx)
	r.agent(goneCtx, t, "goes", &wg, errs)
	waitAgents(t, r.fleet, 2)
	p, yaml := r.plan(t, 10, 20)
	j, jobID := r.job(ctx, t, "fleet", string(yaml), 2)
	var n atomic.Int64
	_, err := j.Run(ctx, p, generator.Options{OnSecond: func(generator.Second) {
		if n.Add(1) == 2 {
			kill()
		}
	}})
	j.Close("failed")
	if !errors.Is(err, ErrAgentLost) {
		t.Fatalf("err = %v, want ErrAgentLost", err)
	}
	t.Log(err)
	shards, _ := r.st.Shards(ctx, jobID)
	lost := 0
	for _, sh := range shards {
		if sh.State == store.ShardLost {
			lost++
		}
	}
	if lost != 1 {
		t.Fatalf("%d shards lost, want 1: %+v", lost, shards)
	}
	cancel()
	wg.Wait()
}

// TestAgentGivesUpWhenTheServerIsGone: an agent whose server stops
// answering exits by itself within its GiveUp, saying so.
func TestAgentGivesUpWhenTheServerIsGone(t *testing.T) {
	r := newRig(t, FleetOptions{})
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	r.agent(context.Background(), t, "lonely", &wg, errs)
	waitAgents(t, r.fleet, 1)
	r.srv.CloseClientConnections()
	r.srv.Close()
	select {
	case err := <-errs:
		if !errors.Is(err, ErrServerGone) {
			t.Fatalf("err = %v, want ErrServerGone", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the agent still runs 30s after its server went away")
	}
}
