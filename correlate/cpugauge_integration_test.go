package correlate_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/obs"
	"github.com/headroom-sre/headroom/plan"
)

// TestCPUGaugeAgainstRealStack runs a shop burning 20 ms of CPU a request
// (the shop runs inside the test process, so the process's CPU also counts
// the load loop) at 5/s and then 20/s for 10 s each, with a real
// Prometheus scraping it every second, and checks that the CPU read at the
// higher step's rate is a plausible fraction of the cores GOMAXPROCS
// exports and exceeds the lower one's by at least a third of the 0.3 cores
// the burn adds. Few, costly requests keep the shop scrapeable on a busy
// machine under -race.
func TestCPUGaugeAgainstRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts Prometheus, a trace store and the shop")
	}
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	stack, err := obs.Start(ctx, obs.Config{Dir: t.TempDir(), ScrapeShop: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	s, err := shop.New(ctx, shop.Config{Products: 2000, Users: 100, Instance: addr, CPUBurn: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
		<-served
	}()
	selector := fmt.Sprintf(`{job="shop",instance=%q}`, addr)
	if err := stack.WaitForSeries(ctx, "go_sched_gomaxprocs_threads"+selector); err != nil {
		t.Fatal(err)
	}

	var steps []capacity.Step
	for i, rate := range []float64{5, 20} {
		var done atomic.Int64
		count := func(ctx context.Context, i int, do doer) error {
			err := listProducts(ctx, i, do)
			done.Add(1)
			return err
		}
		start := time.Now()
		drive(ctx, "http://"+addr, rate, 10*time.Second, newRecorder(start), count)
		end := time.Now()
		steps = append(steps, capacity.Step{Index: i + 1, Start: start, End: end, Verdict: capacity.Acceptable,
			Throughput: float64(done.Load()) / end.Sub(start).Seconds()})
	}
	if err := stack.WaitForSeries(ctx, fmt.Sprintf("timestamp(go_goroutines%s) > %d", selector, steps[1].End.Unix()+1)); err != nil {
		t.Fatal(err)
	}
	g := gauge(t, plan.Observe{Prometheus: stack.PrometheusURL, Selector: selector})
	var got []capacity.CPUReading
	for _, st := range steps {
		r, err := g.CPUFromSteps(ctx, steps, st.Throughput)
		if err != nil {
			pm, _ := correlate.NewPrometheus(stack.PrometheusURL, 0)
			up, _ := pm.QueryRange(ctx, "up"+selector, steps[0].Start, steps[1].End, time.Second)
			t.Fatalf("%v\nsteps %+v\nup %+v", err, steps, up)
		}
		t.Logf("%.1f req/s: %.3f of %g cores %s", st.Throughput, r.Fraction, r.Cores, r.Note)
		got = append(got, r)
	}
	cores := float64(runtime.GOMAXPROCS(0))
	// The burn spins 20 ms of the handler thread's own CPU a request, so at
	// X req/s the process uses at least 0.02 × X cores whatever the
	// machine; a fifth is allowed for a step's edges falling between
	// scrapes. More than its cores is physically impossible.
	for i, r := range got {
		floor := 0.8 * 0.02 * steps[i].Throughput
		if r.Cores != cores || r.Fraction*cores < floor || r.Fraction > 1.0 {
			t.Errorf("step %d at %.1f req/s: %.3f of %g cores (%.3f cores), want at least %.3f cores of the burn and at most all %g cores",
				i+1, steps[i].Throughput, r.Fraction, r.Cores, r.Fraction*r.Cores, floor, cores)
		}
	}
	burn := 0.8 * 0.02 * (steps[1].Throughput - steps[0].Throughput)
	if rise := (got[1].Fraction - got[0].Fraction) * cores; rise < burn {
		t.Errorf("CPU rose by %.3f cores from %.1f to %.1f req/s, want ≥ %.3f (20 ms a request, less a fifth)", rise, steps[0].Throughput, steps[1].Throughput, burn)
	}
}
