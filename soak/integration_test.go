package soak_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/obs"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/soak"
)

// soakPlan holds 40 requests a second on one product for hold after a 10 s
// ramp, against the shop at url, reading its metrics from prom. The
// client's connections are capped at 16: otherwise every hiccup of a
// shared machine leaves more idle connections open (kept 90 s), and the
// shop's goroutines and open files creep for reasons of the client's.
func soakPlan(t *testing.T, url, prom, selector string, hold time.Duration) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: soak-%s
target: { base_url: %s, max_conns: 16 }
load:
  stages:
    - { duration: 10s, target: 40 }
soak: { duration: %s, warmup: 10%% }
observe:
  prometheus: %s
  selector: '%s'
journeys:
  - name: product
    steps:
      - { name: product detail, get: /v1/products/7, expect: { status: 200 } }
`, t.Name(), url, hold, prom, selector)
	p, err := plan.Parse("soak.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func signalOf(t *testing.T, r *soak.Result, name string) soak.Signal {
	t.Helper()
	for _, s := range r.Signals {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no %s signal", name)
	return soak.Signal{}
}

// TestSoakAgainstRealShop holds a steady load for a few minutes on two demo
// shops at once, one with the leak knob on (8 KiB kept per request) and one
// without, scraped every second by a real Prometheus. The leaking one must
// be judged a leak of its heap at the rate it leaks — 8 KiB × the requests
// it served per hour — within 20%, and of its memory; the other flat.
func TestSoakAgainstRealShop(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts Prometheus and two shops for about three minutes")
	}
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	leakyAddr, err := obs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	steadyAddr, err := obs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := obs.Start(ctx, obs.Config{Dir: t.TempDir(), ScrapeShop: []string{leakyAddr, steadyAddr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	const leak = 8 << 10
	dir := t.TempDir()
	leaky, err := obs.StartShop(ctx, obs.ShopConfig{Dir: dir, Addr: leakyAddr, Args: []string{"--leak", fmt.Sprint(leak), "--products", "1000", "--users", "100"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = leaky.Stop() }()
	steady, err := obs.StartShop(ctx, obs.ShopConfig{Dir: dir, Addr: steadyAddr, Args: []string{"--products", "1000", "--users", "100"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = steady.Stop() }()
	for _, a := range []string{leakyAddr, steadyAddr} {
		if err := stack.WaitForSeries(ctx, fmt.Sprintf(`go_gc_heap_live_bytes{instance=%q}`, a)); err != nil {
			t.Fatalf("precondition: Prometheus scrapes the shop's live heap: %v", err)
		}
	}

	const hold = 150 * time.Second
	results := make([]*pipeline.RunResult, 2)
	var wg sync.WaitGroup
	for i, s := range []*obs.ShopProcess{leaky, steady} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := soakPlan(t, s.URL, stack.PrometheusURL, fmt.Sprintf(`{job="shop",instance=%q}`, s.Addr), hold)
			r, err := pipeline.Run(ctx, p, pipeline.Settings{}, pipeline.Hooks{})
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, r := range results {
		if r.Soak == nil {
			t.Fatalf("run %d has no soak result", i)
		}
		for _, s := range r.Soak.Signals {
			t.Logf("%s: %s", []string{"leak on", "leak off"}[i], s.Sentence())
		}
	}

	writeArtifacts(t, map[string]any{"soak-leak.run.json": results[0], "soak-steady.run.json": results[1]})
	lr := results[0]
	var reqs int64
	for _, s := range lr.Seconds {
		if !s.Start.Before(lr.Soak.From) && !s.Start.After(lr.Soak.To) {
			reqs += s.Requests
		}
	}
	known := leak * float64(reqs) / lr.Soak.To.Sub(lr.Soak.From).Hours()
	heap := signalOf(t, lr.Soak, soak.Heap)
	t.Logf("known leak rate %.1f MiB/h; heap slope %.1f MiB/h (95%% CI %.1f–%.1f)", known/(1<<20), heap.SlopePerHour/(1<<20), heap.CILow/(1<<20), heap.CIHigh/(1<<20))
	if heap.Verdict != soak.Leak || math.Abs(heap.SlopePerHour-known) > 0.2*known {
		t.Errorf("leaking shop's heap: %s; want a leak of %.1f MiB/h ± 20%%", heap.Sentence(), known/(1<<20))
	}
	if m := signalOf(t, lr.Soak, soak.Memory); m.Verdict != soak.Leak {
		t.Errorf("leaking shop's memory: %s; want a leak", m.Sentence())
	}
	if lr.Soak.Verdict != soak.Leak || lr.Outcome != pipeline.Failed {
		t.Errorf("leaking soak: verdict %q outcome %q, want leak and failed", lr.Soak.Verdict, lr.Outcome)
	}

	sr := results[1]
	// Latency and Headroom's own memory are reported, not asserted: on a
	// shared machine p99 follows its neighbours, and the two soaks here share
	// one Headroom process.
	for _, name := range []string{soak.Memory, soak.Heap, soak.Goroutines, soak.OpenFiles, soak.PoolInUse, soak.ErrorRate} {
		if s := signalOf(t, sr.Soak, name); s.Verdict != soak.Flat {
			t.Errorf("steady shop: %s; want flat", s.Sentence())
		}
	}
	if sr.Soak.Verdict != soak.Flat {
		t.Errorf("steady soak verdict %q, want flat", sr.Soak.Verdict)
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
