package derive_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/derive"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/obs"
	"github.com/headroom-sre/headroom/plan"
)

// knownPlan is the plan the real-stack test runs: three journeys, each
// client (one data row, one visitor cookie) pausing 2 s after a journey,
// a ramp to 20 iterations/s, a hold, a ramp to 40/s and a hold.
const knownPlan = `version: 1
name: known-mix
target:
  base_url: %s
  allow: [127.0.0.1]
  timeout: 5s
  headers:
    User-Agent: headroom-known-mix
    Cookie: "visitor={{ .data.users.visitor }}"
load:
  model: open
  max_vus: 600
  stages:
    - { duration: 5s, target: 20 }
    - { duration: 8s, target: 20 }
    - { duration: 4s, target: 40 }
    - { duration: 8s, target: 40 }
data:
  users: { csv: users.csv }
journeys:
  - name: browse
    weight: 6
    steps:
      - name: GET /v1/products
        get: /v1/products?page={{ randInt 1 20 }}&per_page=10
        expect: { status: 200 }
      - think: 200ms..200ms
      - name: GET /v1/products/{id}
        get: /v1/products/{{ randInt 1 1000 }}
        expect: { status: 200 }
      - think: 200ms..200ms
      - name: GET /v1/products/{id}
        get: /v1/products/{{ randInt 1 1000 }}
        expect: { status: 200 }
      - think: 2s..2s
  - name: cart
    weight: 3
    steps:
      - name: GET /v1/products/{id}
        get: /v1/products/{{ randInt 1 1000 }}
        expect: { status: 200 }
        extract: { product_id: "id" }
      - think: 300ms..300ms
      - name: POST /v1/cart/items
        post: /v1/cart/items
        json: { product_id: "{{ .vars.product_id }}", quantity: 1 }
        expect: { status: 201 }
        extract: { cart_id: "cart_id" }
      - think: 300ms..300ms
      - name: POST /v1/cart/{id}/coupons
        chance: 0.5
        post: /v1/cart/{{ .vars.cart_id }}/coupons
        json: { code: SAVE10 }
        expect: { status: 200 }
      - think: 2s..2s
  - name: checkout
    weight: 1
    steps:
      - name: POST /v1/login
        post: /v1/login
        json: { user: "{{ .data.users.email }}", password: secret }
        expect: { status: 200 }
        extract: { token: "token" }
      - think: 100ms..100ms
      - name: POST /v1/cart/items
        post: /v1/cart/items
        headers: { Authorization: "Bearer {{ .vars.token }}" }
        json: { product_id: "{{ randInt 1 1000 }}", quantity: 1 }
        expect: { status: 201 }
        extract: { cart_id: "cart_id" }
      - think: 100ms..100ms
      - name: POST /v1/checkout
        post: /v1/checkout
        headers: { Authorization: "Bearer {{ .vars.token }}" }
        json:
          cart_id: "{{ .vars.cart_id }}"
          payment_method_id: pm-test-visa
          shipping_address: { street: 1 Test St, city: Testville, zip: "12345", country: US }
        expect: { status: 200 }
      - think: 2s..2s
`

// knownJourneys are the session paths the plan's journeys make.
var knownJourneys = [][]string{
	{"GET /v1/products", "GET /v1/products/{id}", "GET /v1/products/{id}"},
	{"GET /v1/products/{id}", "POST /v1/cart/items", "POST /v1/cart/{hash}/coupons"}, // with the coupon
	{"GET /v1/products/{id}", "POST /v1/cart/items"},                                 // without
	{"POST /v1/login", "POST /v1/cart/items", "POST /v1/checkout"},
}

// TestDerivedPlanMatchesAKnownRunThroughNginx puts Debian's nginx in front
// of the demo shop, runs a known plan through it, and derives a plan from
// nginx's access logs: the mix is within 5 points of the known plan's
// shares per route, the known journeys are among the derived ones, and the
// peak rate is the run's.
//
// Precondition: nginx is installed (`make derive-deps`); the test fails,
// not skips, without it.
func TestDerivedPlanMatchesAKnownRunThroughNginx(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	shop, err := obs.StartShop(ctx, obs.ShopConfig{Dir: dir, Args: []string{"--products", "1000", "--users", "600"}})
	if err != nil {
		t.Fatalf("precondition: the demo shop: %v", err)
	}
	t.Cleanup(func() {
		if err := shop.Stop(); err != nil {
			t.Error(err)
		}
	})
	ng := startNginx(t, shop.Addr)

	var csv strings.Builder
	csv.WriteString("email,visitor\n")
	for i := 1; i <= 600; i++ {
		fmt.Fprintf(&csv, "user%04d@shop.test,v%04d\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(dir, "known.yaml")
	if err := os.WriteFile(planPath, []byte(fmt.Sprintf(knownPlan, ng.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	known, err := plan.LoadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	before, err := waitLines(ctx, ng.Combined, 1) // the readiness probe's /healthz
	if err != nil {
		t.Fatal(err)
	}
	res, err := generator.Run(ctx, known, generator.Options{Warn: func(m string) { t.Log("generator:", m) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests < 1500 || res.Summary.ErrorRate > 0.01 {
		t.Fatalf("precondition: the run sent %d requests with %.2f%% errors (%v); want ≥ 1500 and ≤ 1%%",
			res.Summary.Requests, 100*res.Summary.ErrorRate, res.Summary.Classes)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	for _, f := range []string{ng.Combined, ng.JSON} {
		if _, err := waitLines(wctx, f, before+res.Summary.Requests); err != nil {
			t.Fatalf("nginx logged fewer requests than the run sent: %v", err)
		}
	}
	ng.stop(t)
	// drop the readiness probes: they are not part of the run
	strip := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if !bytes.Contains(l, []byte("/healthz")) {
				out.Write(l)
			}
		}
		p := path + ".run"
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jsonLog, combinedLog := strip(ng.JSON), strip(ng.Combined)

	prof, err := derive.ReadLogFiles(ctx, []string{jsonLog}, derive.LogOptions{
		Format: derive.FormatJSON, Fields: derive.Fields{Session: "visitor"}, Gap: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if prof.Requests != res.Summary.Requests {
		t.Errorf("derived %d requests from the log, the run sent %d", prof.Requests, res.Summary.Requests)
	}

	// The mix: within 5 points of the known plan's shares, route by route.
	want := derive.Expect(known)
	got := map[string]float64{}
	for _, r := range prof.Routes {
		got[derive.RouteKey(r.Method, r.Template)] += prof.Share(r)
	}
	for k, share := range want.Shares {
		t.Logf("%-34s known %5.1f%%  derived %5.1f%%", k, 100*share, 100*got[k])
		if math.Abs(share-got[k]) > 0.05 {
			t.Errorf("%s: derived share %.1f%%, the known plan's %.1f%%: more than 5 points apart", k, 100*got[k], 100*share)
		}
	}
	for k := range got {
		if _, ok := want.Shares[k]; !ok {
			t.Errorf("derived route %s is not in the known plan", k)
		}
	}

	// The journeys: each known one is among the derived ones.
	for _, kj := range knownJourneys {
		found := false
		for _, j := range prof.Journeys {
			if slices.Equal(j.Steps, kj) {
				found = true
				t.Logf("journey %v: %d sessions", kj, j.Count)
			}
		}
		if !found {
			t.Errorf("known journey %v is not among the derived ones: %v", kj, prof.Journeys)
		}
	}

	// The peak rate: the busiest second of the log is the run's.
	var runPeak float64
	for _, s := range res.Seconds {
		if s.DurationS >= 0.99 {
			runPeak = math.Max(runPeak, float64(s.Requests)/s.DurationS)
		}
	}
	t.Logf("peak second: derived %.0f requests (at %s), the run's %.0f", prof.Rates.PeakSecond, prof.Rates.PeakAt.Format(time.TimeOnly), runPeak)
	if math.Abs(prof.Rates.PeakSecond-runPeak) > 0.1*runPeak {
		t.Errorf("derived peak second %.0f requests, the run's %.0f: more than 10%% apart", prof.Rates.PeakSecond, runPeak)
	}

	// The combined log says the same of the mix and the peak.
	comb, err := derive.ReadLogFiles(ctx, []string{combinedLog}, derive.LogOptions{Format: derive.FormatCombined, Gap: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if comb.Requests != prof.Requests || comb.Rates.PeakSecond != prof.Rates.PeakSecond || len(comb.Routes) != len(prof.Routes) {
		t.Errorf("combined log: %d requests, peak %v, %d routes; JSON log: %d, %v, %d",
			comb.Requests, comb.Rates.PeakSecond, len(comb.Routes), prof.Requests, prof.Rates.PeakSecond, len(prof.Routes))
	}

	// The derived plan validates and checks clean against the log it came from.
	var out bytes.Buffer
	if err := derive.WritePlan(&out, prof, derive.PlanOptions{BaseURL: ng.URL}); err != nil {
		t.Fatal(err)
	}
	derived, err := plan.Parse("derived.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("the derived plan does not validate: %v\n%s", err, out.String())
	}
	c := derive.Check(derived, prof, derive.CheckOptions{})
	for _, w := range c.Warnings {
		if w.Route != "" {
			t.Errorf("check of the derived plan against its own log: %s", w)
		}
	}
	// and the known plan checks clean on the mix too
	for _, w := range derive.Check(known, prof, derive.CheckOptions{}).Warnings {
		if w.Route != "" {
			t.Errorf("check of the known plan against its run's log: %s", w)
		}
	}
	t.Logf("derived plan:\n%s", out.String())
}
