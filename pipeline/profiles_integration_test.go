package pipeline_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/profiles"
)

// TestStudyNamesTheLockHolderOfARealShop runs a short capacity study
// against an in-process shop whose requests each hold one shared Go mutex
// 10 ms (mutex_hold: at most 100 requests a second), with the shop's
// /debug/pprof/ on a loopback listener of its own named by observe.pprof,
// and expects a lock_contention finding naming the lock's holder, and
// every step's profiles handed to OnProfile. Precondition: the study
// degrades (the lock binds); the test fails otherwise. It loads the
// machine lightly (at most 200 requests a second) for about 25 seconds
// (26 s in the run that set this); run it under flock
// /tmp/headroom-load.lock.
func TestStudyNamesTheLockHolderOfARealShop(t *testing.T) {
	ctx := context.Background()
	s, err := shop.New(ctx, shop.Config{Products: 50, Users: 10, MutexHold: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("precondition: starting the shop: %v", err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: shop.PprofHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ps.Serve(pl) }()
	t.Cleanup(func() { _ = ps.Close() })
	defer runtime.SetMutexProfileFraction(runtime.SetMutexProfileFraction(5))
	defer runtime.SetBlockProfileRate(0)
	runtime.SetBlockProfileRate(10_000)

	src := fmt.Sprintf(`version: 1
name: locked
target: { base_url: http://%s, timeout: 5s }
slo: { p99: 100ms, error_rate: 1%% }
load:
  model: open
  max_vus: 300
  stages: [ { duration: 1s, target: 10 } ]
observe:
  pprof: http://%s/debug/pprof
journeys:
  - name: product
    steps:
      - { name: product detail, get: /v1/products/7, expect: { status: 200 } }
abort:
  max_rate: 400/s
capacity:
  start_rate: 25
  step_duration: 2s
  precision: 50%%
  cooldown: 0s
`, ln.Addr(), pl.Addr())
	p, err := plan.Parse("locked.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var kept []profiles.Kept
	res, err := pipeline.Study(ctx, p, pipeline.Settings{}, pipeline.Hooks{
		OnProfile: func(k profiles.Kept) { kept = append(kept, k) },
		Warn:      func(msg string) { t.Logf("warning: %s", msg) },
	})
	if err != nil {
		t.Fatalf("study: %v", err)
	}
	degraded := 0
	for _, st := range res.Study.Steps {
		t.Logf("step %s %d at %.0f/s: %.0f req/s, mean %.1f ms, p99 %.1f ms, %s", st.Phase, st.Index, st.Rate, st.Throughput,
			st.Latency.Mean, st.Latency.P99, st.Verdict)
		if st.Verdict != capacity.Acceptable {
			degraded++
		}
	}
	if degraded == 0 {
		t.Fatalf("precondition: no step degraded; the 10 ms lock should bind at 100 requests a second")
	}
	kinds := map[profiles.Kind]int{}
	for _, k := range kept {
		kinds[k.Kind]++
		if k.Phase == "" || k.Step == 0 || len(k.Raw) == 0 {
			t.Errorf("a kept %s profile without its step or bytes: %s %d, %d bytes", k.Kind, k.Phase, k.Step, len(k.Raw))
		}
	}
	if kinds[profiles.CPU] < len(res.Study.Steps) || kinds[profiles.Mutex] == 0 || kinds[profiles.Allocs] == 0 {
		t.Errorf("profiles kept by kind %v over %d steps, want a CPU profile of each and some mutex and allocation ones", kinds, len(res.Study.Steps))
	}
	var lock *string
	for _, f := range res.Findings {
		t.Logf("finding %d %s: %s (score %.2f)\n  %s", f.Rank, f.Kind, f.Title, f.Score, strings.Join(f.Evidence.Facts, "\n  "))
		if f.Kind == profiles.KindLockWait {
			lock = &f.Title
		}
	}
	if lock == nil || !strings.Contains(*lock, "shop.(*sharedLock).hold") {
		t.Errorf("no lock_contention finding naming shop.(*sharedLock).hold among %d findings", len(res.Findings))
	}
}
