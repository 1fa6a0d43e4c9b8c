package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/demo/fleet"
	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/obs"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// Every instance of these fleets serves at most 2 requests at once, each
// holding its slot 50 ms without CPU: 40 requests a second, the
// unacceptable point per instance, whatever the machine's cores.
const perInstance = 40.0

var instanceShop = shop.Config{Capacity: 2, ServiceTime: 50 * time.Millisecond}

type runningFleet struct {
	*fleet.Fleet
	addr, url string
}

// startFleet starts an in-process fleet on addr (min–max instances, 10 s
// startup, deciding every 2 s on a 5 s window).
func startFleet(t *testing.T, ctx context.Context, addr string, min, max int, target float64) runningFleet {
	t.Helper()
	f, err := fleet.New(ctx, fleet.Config{Min: min, Max: max, Startup: 10 * time.Second, TargetRPS: target,
		Sync: 2 * time.Second, Window: 5 * time.Second, ScaleDownWindow: time.Minute, Shop: instanceShop})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.Serve(ln) }()
	t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
	return runningFleet{Fleet: f, addr: addr, url: "http://" + addr}
}

// fleetPlan is a plan against url reading the fleet's replicas at addr.
func fleetPlan(t *testing.T, url, prom, addr, extra string) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: fleet
target: { base_url: %s, timeout: 10s }
slo: { p99: 500ms, error_rate: 1%% }
load:
  max_vus: 2000
  stages: [ { duration: 1s, target: 20 } ]
observe:
  prometheus: %s
  signals:
    replicas_desired: 'sum(kube_horizontalpodautoscaler_status_desired_replicas{instance="%s"})'
    replicas_serving: 'sum(kube_deployment_status_replicas_available{instance="%s"})'
journeys:
  - name: product
    steps:
      - { name: product detail, get: /v1/products/7, expect: { status: 200 } }
%s`, url, prom, addr, addr, extra)
	p, err := plan.Parse("fleet.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAssessAndSpikeAgainstRealFleet runs, against real autoscaled fleets
// (min 1, max 4, 10 s startup) scraped by a real Prometheus:
//
//   - Assess from 10 to 100 it/s over 2 minutes at two thresholds: 16 req/s
//     per instance (40% of the 40 req/s unacceptable point) leaves room for
//     the startup and passes; 38 (95%) scales too late and fails, and its
//     correction lowers the threshold below 38;
//   - a spike from 20 to 60 it/s against the fleet at 16 and against a
//     single instance: the fleet recovers, and sooner than the single one.
func TestAssessAndSpikeAgainstRealFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts Prometheus and fleets for about five minutes")
	}
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	addrs := make([]string, 4)
	for i := range addrs {
		a, err := obs.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = a
	}
	stack, err := obs.Start(ctx, obs.Config{Dir: t.TempDir(), ScrapeFront: addrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	roomy := startFleet(t, ctx, addrs[0], 1, 4, 16)
	late := startFleet(t, ctx, addrs[1], 1, 4, 38)
	for _, a := range addrs[:2] {
		if err := stack.WaitForSeries(ctx, fmt.Sprintf(`kube_deployment_status_replicas_available{instance=%q}`, a)); err != nil {
			t.Fatalf("precondition: Prometheus scrapes the fleet's replicas: %v", err)
		}
	}

	// Assess, both thresholds at once.
	assessments := make([]capacity.Assessment, 2)
	var wg sync.WaitGroup
	for i, f := range []runningFleet{roomy, late} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := fleetPlan(t, f.url, stack.PrometheusURL, f.addr, "")
			in := capacity.AssessInput{URL: f.url, From: 10, To: 100, Ramp: 2 * time.Minute, Hold: 10 * time.Second,
				ThresholdRPS: []float64{16, 38}[i], UnacceptableRPS: perInstance, MaxInstances: 4}
			a, err := capacity.Assess(ctx, p, in, pipeline.ReplicasOf(p, pipeline.Settings{}), generator.Options{Warn: func(string) {}})
			if err != nil {
				t.Error(err)
			}
			assessments[i] = a
		}()
	}
	wg.Wait()
	for i, a := range assessments {
		t.Logf("assess at %g req/s per instance: %s", a.Input.ThresholdRPS, a.Statement)
		for _, line := range a.Arithmetic {
			t.Logf("  %s", line)
		}
		for _, c := range a.Crossings {
			lag := "none"
			if c.LagS != nil {
				lag = fmt.Sprintf("%.0fs", *c.LagS)
			}
			t.Logf("  crossing at %.0fs, %.0f it/s on %.0f serving: lag %s", c.AtS, c.Offered, c.Serving, lag)
		}
		_ = i
	}
	writeArtifacts(t, map[string]any{"assess-roomy.json": assessments[0], "assess-late.json": assessments[1]})
	ok := assessments[0]
	if !ok.Held || ok.Verdict != "passed" || ok.MostServing < 3 || ok.MaxLagS < 10 || ok.Corrected != nil {
		t.Errorf("threshold 16: %s; want passed, replicas risen to ≥ 3, a lag ≥ the 10 s startup, no correction", ok.Statement)
	}
	bad := assessments[1]
	if bad.Held || bad.Verdict != "failed" || bad.Corrected == nil || bad.Corrected.ThresholdRPS >= 38 || bad.Corrected.ThresholdRPS <= 0 {
		t.Errorf("threshold 38: %s; want failed with a lower threshold", bad.Statement)
	}

	_ = roomy.Shutdown(ctx)
	_ = late.Shutdown(ctx)

	// Spike: a fresh fleet at 16 (it warms to 2 at 20 it/s) against a single instance.
	single := startFleet(t, ctx, addrs[2], 1, 1, 16)
	spiky := startFleet(t, ctx, addrs[3], 1, 4, 16)
	for _, a := range addrs[2:] {
		if err := stack.WaitForSeries(ctx, fmt.Sprintf(`kube_deployment_status_replicas_available{instance=%q}`, a)); err != nil {
			t.Fatalf("precondition: Prometheus scrapes the fleet's replicas: %v", err)
		}
	}
	spikes := make([]*pipeline.RunResult, 2)
	for i, f := range []runningFleet{spiky, single} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := fleetPlan(t, f.url, stack.PrometheusURL, f.addr, "spike: { baseline: 20, factor: 3, ramp: 3s, hold: 30s, before: 25s, after: 90s }\n")
			r, err := pipeline.Run(ctx, p, pipeline.Settings{}, pipeline.Hooks{Warn: func(string) {}})
			if err != nil {
				t.Error(err)
				return
			}
			spikes[i] = r
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, r := range spikes {
		if r.Spike == nil {
			t.Fatalf("spike run %d has no spike result", i)
		}
		t.Logf("spike against %s: %s", []string{"the fleet", "a single instance"}[i], r.Spike.Statement)
	}
	writeArtifacts(t, map[string]any{"spike-fleet.run.json": spikes[0], "spike-single.run.json": spikes[1]})
	fs, ss := spikes[0].Spike, spikes[1].Spike
	if !fs.Recovered || fs.Scaling == nil || fs.Scaling.DecidedS == nil || fs.Scaling.Most <= fs.Scaling.Before {
		t.Errorf("fleet spike: %s; want recovered with the autoscaler adding instances", fs.Statement)
	}
	if ss.Recovered && fs.Recovered && *ss.RecoveryS < *fs.RecoveryS {
		t.Errorf("single instance recovered in %ds, sooner than the fleet's %ds", *ss.RecoveryS, *fs.RecoveryS)
	}
	if ss.WorstP99 <= fs.WorstP99 {
		t.Errorf("single instance's worst p99 %.0fms is not above the fleet's %.0fms", ss.WorstP99, fs.WorstP99)
	}
}

// writeArtifacts keeps the documents in $HEADROOM_LOOP_OUT when it is set
// (the dashboard's and the report's examples are made from them).
func writeArtifacts(t *testing.T, docs map[string]any) {
	t.Helper()
	dir := os.Getenv("HEADROOM_LOOP_OUT")
	if dir == "" {
		return
	}
	for name, d := range docs {
		b, err := json.Marshal(d)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			t.Errorf("writing %s: %v", name, err)
		}
	}
}
