//go:build linux

package pipeline_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/demo/front"
	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/obs"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// Real-stack tests of the scaling finding: real shops behind the real
// front, scraped by a real Prometheus, a real verification (capacity.Find
// at the front, the generator sending the load), then the finding read
// from Prometheus. Each verification is two steps of 5 s: an acceptable
// rate and one the fleet cannot carry.

// scalingPlan is a plan against the front at url whose observe section
// reads Prometheus at prom with the given components.
func scalingPlan(t *testing.T, url, prom, components string) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: scaling
target: { base_url: %s, timeout: 10s }
slo: { p99: 500ms, error_rate: 1%% }
load:
  max_vus: 1000
  stages: [ { duration: 1s, target: 1 } ]
observe:
  prometheus: %s
  components:
%s
journeys:
  - name: product
    steps:
      - { name: product detail, get: /v1/products/7, expect: { status: 200 } }
`, url, prom, components)
	p, err := plan.Parse("scaling.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startFront serves a front over backends (with weights, nil for
// round-robin) on a free loopback port and returns its URL.
func startFront(t *testing.T, backends []string, weights []int) string {
	t.Helper()
	f, err := front.New(front.Config{Backends: backends, Weights: weights})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.Serve(ln) }()
	t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// verify runs a verification of two 5 s steps at the front: low, then
// high (the step budget then ends the search).
func verify(t *testing.T, ctx context.Context, p *plan.Plan, low, high float64) capacity.Exploration {
	t.Helper()
	ex, err := capacity.Find(ctx, p, capacity.NewProberWith(p, capacity.ProberHooks{Warn: func(string) {}}), capacity.Options{
		Phase: capacity.PhaseVerify, BaselineRate: low, From: high, MaxSteps: 2,
		StepDuration: 5 * time.Second, Warmup: 0.2, Cooldown: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range ex.Steps {
		t.Logf("verify step %d at %.0f it/s: %.1f req/s, p99 %.0f ms, %s %v", st.Index, st.Rate, st.Throughput, st.Latency.P99, st.Verdict, st.Reasons)
	}
	return ex
}

// verifiedStudy is a study whose single-instance capacity is single and
// whose verification is ex at n instances.
func verifiedStudy(t *testing.T, single float64, n int, ex capacity.Exploration) *capacity.Study {
	t.Helper()
	measured := 0.0
	if st, ok := ex.At(ex.Capacity); ok && ex.Capacity > 0 {
		measured = st.Throughput
	}
	predicted := float64(n) * single
	ratio := measured / predicted
	if ratio >= 0.85 {
		t.Fatalf("precondition: the fleet carried %.1f req/s, %.0f%% of the %.0f predicted; want it short of the prediction", measured, 100*ratio, predicted)
	}
	return &capacity.Study{Capacity: capacity.Bounds{SingleInstanceRPS: single},
		Prediction: capacity.Prediction{Instances: n, PredictedRPS: predicted, MeasuredRPS: &measured, Ratio: &ratio, Steps: ex.Steps}}
}

// waitScraped waits until Prometheus has scraped job after at, so the
// last step's samples are in.
func waitScraped(t *testing.T, ctx context.Context, stack *obs.Stack, job string, at time.Time) {
	t.Helper()
	q := fmt.Sprintf(`timestamp(up{job=%q}) > %d`, job, at.Add(time.Second).Unix())
	if err := stack.WaitForSeries(ctx, q); err != nil {
		t.Fatalf("precondition: Prometheus scrapes %s after the verification: %v", job, err)
	}
}

func lastEnd(ex capacity.Exploration) time.Time {
	return ex.Steps[len(ex.Steps)-1].End
}

// TestScalingFindingNamesTheBusiestInstance: three shops that each serve
// at most 2 requests at once for 50 ms (40 req/s an instance, whatever
// the machine's load) behind a front weighted 2,1,1. At 110 it/s the
// busiest gets 55 req/s and breaks while an even split would hold: the
// finding names that instance and its share, about 50%.
func TestScalingFindingNamesTheBusiestInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts Prometheus and three shops for about 20 s")
	}
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var addrs, backends []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		srv, err := shop.New(ctx, shop.Config{Addr: addr, Capacity: 2, ServiceTime: 50 * time.Millisecond, Products: 100, Users: 1})
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
		addrs, backends = append(addrs, addr), append(backends, "http://"+addr)
	}
	stack, err := obs.Start(ctx, obs.Config{Dir: t.TempDir(), ScrapeShop: addrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	url := startFront(t, backends, []int{1, 2, 1}) // the second shop is the busiest
	if err := stack.WaitForSeries(ctx, `count(up{job="shop"} == 1) == 3`); err != nil {
		t.Fatalf("precondition: Prometheus scrapes the three shops: %v", err)
	}
	p := scalingPlan(t, url, stack.PrometheusURL, `    - { name: fleet, kind: service, selector: '{job="shop"}' }`)

	ex := verify(t, ctx, p, 60, 110)
	study := verifiedStudy(t, 40, 3, ex)
	waitScraped(t, ctx, stack, "shop", lastEnd(ex))
	sc, ok := pipeline.ExplainScaling(ctx, p, study)
	if !ok {
		t.Fatal("no scaling finding for a fleet short of its prediction")
	}
	t.Logf("%s\n→ %s\n%s", sc.Finding.Title, sc.Finding.Recommendation, strings.Join(sc.Finding.Evidence.Facts, "\n"))
	if sc.Cause != correlate.CauseImbalance {
		t.Fatalf("cause %s, want %s: %s", sc.Cause, correlate.CauseImbalance, sc.Finding.Title)
	}
	prefix := fmt.Sprintf("instance %s received ", addrs[1])
	i := strings.Index(sc.Statement, prefix)
	if i < 0 {
		t.Fatalf("the statement does not name the busiest instance %s: %s", addrs[1], sc.Statement)
	}
	share, err := strconv.Atoi(strings.TrimSuffix(strings.Fields(sc.Statement[i+len(prefix):])[0], "%"))
	if err != nil || share < 45 || share > 55 {
		t.Errorf("busiest share %q, want about 50%% (weight 2 of 4): %s", strings.Fields(sc.Statement[i+len(prefix):])[0], sc.Statement)
	}
}

// TestScalingFindingNamesTheSharedHostCPU: three shops burning 8 ms of CPU
// a request, all pinned to one CPU of the machine, whose node exporter
// series are the plan's host component. That CPU is the host the three
// share, by design on any machine: one instance alone carries 60 req/s
// (half the CPU); three at 171 it/s need 1.4 CPUs of the one they have.
// The finding names the shared host CPU.
func TestScalingFindingNamesTheSharedHostCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts Prometheus, node exporter and three shop processes for about 40 s")
	}
	obs.Require(t)
	nodeExporter, err := exec.LookPath("prometheus-node-exporter")
	if err != nil {
		t.Fatalf("precondition: Debian's prometheus-node-exporter is installed (make obs-db-deps): %v", err)
	}
	cpu := lastCPU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()

	var addrs, backends []string
	for range 3 {
		sp, err := obs.StartShop(ctx, obs.ShopConfig{Dir: dir, Args: []string{"--cpu-burn", "8ms", "--products", "100", "--users", "1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sp.Stop() })
		pin(t, sp.PID, cpu)
		addrs, backends = append(addrs, sp.Addr), append(backends, sp.URL)
	}
	nodeAddr := startNodeExporter(t, ctx, nodeExporter, dir)
	stack, err := obs.Start(ctx, obs.Config{Dir: filepath.Join(dir, "obs"), ScrapeShop: addrs, ScrapeNode: []string{nodeAddr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	url := startFront(t, backends, nil)
	for _, q := range []string{`count(up{job="shop"} == 1) == 3`, fmt.Sprintf(`node_cpu_seconds_total{job="node",cpu="%d",mode="idle"}`, cpu)} {
		if err := stack.WaitForSeries(ctx, q); err != nil {
			t.Fatalf("precondition: Prometheus has %s: %v", q, err)
		}
	}
	components := fmt.Sprintf(`    - { name: fleet, kind: service, selector: '{job="shop"}' }
    - { name: cpu%d, kind: host, selector: '{job="node", cpu="%d"}' }`, cpu, cpu)
	p := scalingPlan(t, url, stack.PrometheusURL, components)

	// One instance alone, on the same CPU.
	alone := scalingPlan(t, backends[0], stack.PrometheusURL, components)
	one, err := capacity.Find(ctx, alone, capacity.NewProberWith(alone, capacity.ProberHooks{Warn: func(string) {}}), capacity.Options{
		BaselineRate: 60, MaxSteps: 1, StepDuration: 5 * time.Second, Warmup: 0.2, Cooldown: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	base := one.Baseline()
	if base.Verdict != capacity.Acceptable {
		t.Fatalf("precondition: one shop alone carries 60 it/s on CPU %d: %s %v", cpu, base.Verdict, base.Reasons)
	}
	single := base.Throughput

	ex := verify(t, ctx, p, single, 0.95*3*single)
	study := verifiedStudy(t, single, 3, ex)
	waitScraped(t, ctx, stack, "node", lastEnd(ex))
	sc, ok := pipeline.ExplainScaling(ctx, p, study)
	if !ok {
		t.Fatal("no scaling finding for a fleet short of its prediction")
	}
	t.Logf("%s\n→ %s\n%s", sc.Finding.Title, sc.Finding.Recommendation, strings.Join(sc.Finding.Evidence.Facts, "\n"))
	if sc.Cause != correlate.CauseSharedHost {
		t.Fatalf("cause %s, want %s: %s", sc.Cause, correlate.CauseSharedHost, sc.Finding.Title)
	}
	if !strings.Contains(sc.Statement, "the 3 instances shared 1 core: host CPU ") || !strings.Contains(sc.Statement, "scaling is unverified on this machine") {
		t.Errorf("statement %q does not name the one shared core", sc.Statement)
	}
}

// lastCPU is the highest CPU this process may run on: the shops are
// pinned there.
func lastCPU(t *testing.T) int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatalf("precondition: the CPU affinity of the test can be read: %v", err)
	}
	cpu := -1
	for i := range 1024 {
		if set.IsSet(i) {
			cpu = i
		}
	}
	if cpu < 0 {
		t.Fatal("precondition: the test may run on at least one CPU")
	}
	return cpu
}

// pin restricts every thread of process pid to cpu; threads it starts
// later inherit the restriction.
func pin(t *testing.T, pid, cpu int) {
	t.Helper()
	var set unix.CPUSet
	set.Set(cpu)
	for round := 0; round < 10; round++ {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			t.Fatalf("pinning PID %d: %v", pid, err)
		}
		changed := false
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			var got unix.CPUSet
			if unix.SchedGetaffinity(tid, &got) == nil && got == set {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != syscall.ESRCH {
				t.Fatalf("pinning thread %d of PID %d to CPU %d: %v", tid, pid, cpu, err)
			}
			changed = true
		}
		if !changed {
			return
		}
	}
	t.Fatalf("PID %d kept starting threads while it was pinned to CPU %d", pid, cpu)
}

// startNodeExporter runs Debian's node exporter (its CPU collector only) on
// a free loopback port until the test ends, and returns its address.
func startNodeExporter(t *testing.T, ctx context.Context, bin, dir string) string {
	t.Helper()
	addr, err := obs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "node-exporter.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--collector.disable-defaults", "--collector.cpu")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return addr
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("node exporter did not listen on %s: %v\n%s", addr, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
