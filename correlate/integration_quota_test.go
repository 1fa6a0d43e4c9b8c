package correlate_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/obs"
)

// TestThrottlingRanksFirstAgainstRealStack runs the demo shop as a process
// of its own under a real CFS quota (`headroom demo shop --cpu-limit`, as
// root), scraped by a real Prometheus and tracing to a real trace store,
// and checks that when the quota is what slows it, correlation names CPU
// throttling first, with the limit to set.
//
// The load is the same throughout: 3 requests a second, each burning 20 ms
// of CPU. For the baseline the quota is 1 core (100 ms per 100 ms period:
// a request never exhausts it); then it drops to 0.1 cores (10 ms per
// period), so every request, needing 20 ms, is throttled at least once and
// takes two periods or more — on any machine, since the burn counts the
// thread's own CPU time. 0.06 of 0.1 cores keeps the shop scrapeable.
// The shop runs outside the test's process because a quota holds back
// every thread of the process it is set on, the load loop's included.
func TestThrottlingRanksFirstAgainstRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts Prometheus, a trace store and the shop")
	}
	if os.Geteuid() != 0 {
		t.Skip("a CPU quota needs root to create a cgroup")
	}
	if os.Getenv("HEADROOM_SKIP_CGROUP") == "1" {
		t.Skip("HEADROOM_SKIP_CGROUP=1")
	}
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	addr, err := obs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := obs.Start(ctx, obs.Config{Dir: t.TempDir(), ScrapeShop: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	const service = "shop-quota"
	shop, err := obs.StartShop(ctx, obs.ShopConfig{Dir: t.TempDir(), Addr: addr, Args: []string{
		"--cpu-limit", "1", "--cpu-burn", "20ms", "--otlp", stack.OTLPEndpoint, "--service", service,
		"--products", "5000", "--users", "1000",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := shop.Stop(); err != nil {
			t.Error(err)
		}
	}()
	selector := fmt.Sprintf(`{job="shop",instance=%q}`, addr)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := stack.WaitForSeries(wctx, "container_cpu_cfs_periods_total"+selector); err != nil {
		t.Fatal(err)
	}

	const rate = 3
	rec := newRecorder(time.Now())
	drive(ctx, shop.URL, rate, 15*time.Second, rec, listProducts)
	setCPULimit(ctx, t, shop.URL, 0.1)
	drive(ctx, shop.URL, rate, 15*time.Second, rec, listProducts)
	end := time.Now()

	in := rec.input()
	in.Options.Margin = 5 * time.Second // leaves most of the short healthy phase as baseline
	in.Observe.Selector, in.Observe.Service = selector, service
	// Wait until Prometheus has scraped past the end and the slowest trace is stored.
	wctx, wcancel = context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := stack.WaitForSeries(wctx, fmt.Sprintf("timestamp(go_goroutines%s) > %d", selector, end.Unix()+1)); err != nil {
		t.Fatal(err)
	}
	if last := in.Exemplars[len(in.Exemplars)-1]; last.TraceID != "" {
		if _, err := stack.WaitForTrace(wctx, last.TraceID); err != nil {
			t.Logf("last exemplar trace not stored yet: %v", err)
		}
	}
	p, err := correlate.NewPrometheus(stack.PrometheusURL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	j, err := correlate.NewJaeger(stack.TracesURL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := correlate.Explain(ctx, in, correlate.Sources{Metrics: p, Traces: j})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Window.Found || len(rep.Findings) == 0 {
		var secs []string
		for _, p := range in.Seconds {
			secs = append(secs, fmt.Sprintf("%.0f/s %.0fms", p.Rate, p.P99Ms))
		}
		t.Fatalf("no degradation or no findings in %s:\n%s", strings.Join(secs, ", "), describe(rep))
	}
	t.Logf("%s", describe(rep))
	top := rep.Findings[0]
	if top.Kind != "cpu_throttling" {
		t.Fatalf("top finding %s, want cpu_throttling:\n%s", top.Kind, describe(rep))
	}
	// The advice raises the limit from the quota in force (0.10 cores) to
	// more than that: read back the two numbers, not a substring.
	var from, to float64
	i := strings.Index(top.Recommendation, "Raise the CPU limit from ")
	if i < 0 {
		t.Fatalf("throttling recommendation %q does not raise the limit from the current quota", top.Recommendation)
	}
	if _, err := fmt.Sscanf(top.Recommendation[i:], "Raise the CPU limit from %f to %f cores", &from, &to); err != nil || from != 0.1 || to <= from {
		t.Errorf("throttling recommendation %q: limit from %v to %v (%v), want from 0.10 to more", top.Recommendation, from, to, err)
	}
}

// setCPULimit changes the shop's cpu_limit knob through /admin/knobs.
func setCPULimit(ctx context.Context, t *testing.T, base string, cores float64) {
	t.Helper()
	body := fmt.Sprintf(`{"cpu_limit": %g}`, cores)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/admin/knobs", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /admin/knobs %s: %d %s", body, resp.StatusCode, out)
	}
}
