package derive_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/derive"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/obs"
	"github.com/headroom-sre/headroom/plan"
)

// TestPrometheusMixAndRatesMatchAKnownRun scrapes the demo shop with a real
// Prometheus (the obs stack) while a known plan runs against it, then
// derives the mix and rates from the shop's request counters: the mix is
// within 5 points of the run's, the peak and sustained rates lie within the
// run's, and the written plan validates with the business figures.
func TestPrometheusMixAndRatesMatchAKnownRun(t *testing.T) {
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	addr, err := obs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := obs.Start(ctx, obs.Config{Dir: filepath.Join(dir, "obs"), ScrapeShop: []string{addr}})
	if err != nil {
		t.Fatalf("precondition: the obs stack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Error(err)
		}
	})
	shop, err := obs.StartShop(ctx, obs.ShopConfig{Dir: dir, Addr: addr, Args: []string{"--products", "1000", "--users", "600"}})
	if err != nil {
		t.Fatalf("precondition: the demo shop: %v", err)
	}
	t.Cleanup(func() {
		if err := shop.Stop(); err != nil {
			t.Error(err)
		}
	})
	sel := fmt.Sprintf(`{job="shop",instance=%q}`, addr)
	if err := stack.WaitForSeries(ctx, "up"+sel+" == 1"); err != nil {
		t.Fatalf("precondition: Prometheus does not scrape the shop: %v", err)
	}

	var csv strings.Builder
	csv.WriteString("email,visitor\n")
	for i := 1; i <= 600; i++ {
		fmt.Fprintf(&csv, "user%04d@shop.test,v%04d\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv.String()), 0o644)
	planPath := filepath.Join(dir, "known.yaml")
	os.WriteFile(planPath, []byte(fmt.Sprintf(knownPlan, shop.URL)), 0o644)
	known, err := plan.LoadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := generator.Run(ctx, known, generator.Options{Warn: func(m string) { t.Log("generator:", m) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests < 1500 || res.Summary.ErrorRate > 0.01 {
		t.Fatalf("precondition: the run sent %d requests with %.2f%% errors", res.Summary.Requests, 100*res.Summary.ErrorRate)
	}
	// wait until Prometheus has scraped the last of them
	total := fmt.Sprintf("sum(http_request_duration_seconds_count%s) >= %d", sel, res.Summary.Requests)
	if err := stack.WaitForSeries(ctx, total); err != nil {
		t.Fatalf("Prometheus never counted the run's %d requests: %v", res.Summary.Requests, err)
	}
	end := time.Now().Add(2 * time.Second)
	prof, err := derive.FromPrometheus(ctx, derive.PromOptions{URL: stack.PrometheusURL, Selector: sel,
		Range: end.Sub(start.Add(-5 * time.Second)).Round(time.Second), End: end, Step: time.Second, Scrape: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mix query:  %s\nrate query: %s", prof.MixQuery, prof.RateQuery)

	runShare := map[string]float64{}
	for _, s := range res.ByName {
		runShare[routeKeyOfName(s.Name)] += float64(s.Requests) / float64(res.Summary.Requests)
	}
	got := map[string]float64{}
	for _, r := range prof.Routes {
		got[derive.RouteKey(r.Method, r.Template)] += prof.Share(r)
	}
	for k, share := range runShare {
		t.Logf("%-34s run %5.1f%%  prometheus %5.1f%%", k, 100*share, 100*got[k])
		if math.Abs(share-got[k]) > 0.05 {
			t.Errorf("%s: Prometheus says %.1f%%, the run sent %.1f%%", k, 100*got[k], 100*share)
		}
	}
	var runPeak, runMean float64
	var n float64
	for _, s := range res.Seconds {
		if s.DurationS >= 0.99 {
			runPeak = math.Max(runPeak, float64(s.Requests))
			runMean += float64(s.Requests)
			n++
		}
	}
	runMean /= n
	t.Logf("rates: prometheus peak %.1f, median %.1f; run peak second %.0f, mean %.1f", prof.Rates.PeakMinute, prof.Rates.P50, runPeak, runMean)
	if prof.Rates.PeakMinute > 1.1*runPeak || prof.Rates.PeakMinute < runMean {
		t.Errorf("Prometheus' peak %.1f req/s is outside the run's mean %.1f .. peak second %.0f", prof.Rates.PeakMinute, runMean, runPeak)
	}

	var out bytes.Buffer
	if err := derive.WritePromPlan(&out, prof, derive.PromPlanOptions{BaseURL: shop.URL}); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("prom.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("the plan does not validate: %v\n%s", err, out.String())
	}
	if p.Business.ActiveUsers <= 0 || p.Business.PeakFactor < 1 || !strings.Contains(out.String(), prof.MixQuery) {
		t.Errorf("business %+v, or the query is not shown:\n%s", p.Business, out.String())
	}
	t.Logf("plan:\n%s", out.String())
}

// routeKeyOfName is the comparable route of a request name "METHOD /path".
func routeKeyOfName(name string) string {
	m, p, _ := strings.Cut(name, " ")
	return derive.RouteKey(m, p)
}
