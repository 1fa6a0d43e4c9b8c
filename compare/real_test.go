package compare

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// runAgainst drives a real generator run of 10 s at 40 iterations/s of two
// request names against url, and returns its windows. Ten seconds a side:
// the gate corrects 15 rank tests (3 names × 5 metrics) by Holm–Bonferroni,
// and with 7 seconds a side even a total separation of the two runs cannot
// reach α = 0.01 once corrected (two-sided exact p ≥ 2/C(14,7) ≈ 0.0006, × 15).
func runAgainst(t *testing.T, url string) []generator.SecondRecord {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: compare-real
target:
  base_url: %s
  allow: [127.0.0.1]
  timeout: 5s
load:
  model: open
  max_vus: 200
  stages:
    - { duration: 10s, target: 40 }
journeys:
  - name: shop
    steps:
      - name: list
        get: /list
      - name: detail
        get: /detail
`, url)
	p, err := plan.Parse("compare-real.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p.Load.Start = 40
	res, err := generator.Run(context.Background(), p, generator.Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests == 0 || res.Summary.Errors > 0 {
		t.Fatalf("run: %d requests, %d errors", res.Summary.Requests, res.Summary.Errors)
	}
	return res.Seconds
}

// TestRealRunsOfOneTargetAndOfItsSlowerSelf runs a loopback target that
// answers in 20 ms: eleven runs give ten pairs of an unchanged target,
// which must compare as no regression in at least nine; then the target is
// made 30% slower (26 ms) and each of ten runs, against its own earlier
// run, must compare as a regression.
func TestRealRunsOfOneTargetAndOfItsSlowerSelf(t *testing.T) {
	if testing.Short() {
		t.Skip("21 real runs of 10 s: not in -short")
	}
	var delay atomic.Int64
	delay.Store(int64(20 * time.Millisecond))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	var base [][]generator.SecondRecord
	for i := 0; i < 11; i++ {
		base = append(base, runAgainst(t, srv.URL))
	}
	clean := 0
	for i := 0; i < 10; i++ {
		res, err := Windows(base[i], base[i+1], Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Regression {
			clean++
		} else {
			t.Logf("unchanged pair %d: %v", i, res.Reasons)
		}
	}
	if clean < 9 {
		t.Errorf("%d of 10 pairs of an unchanged target compare without a regression, want ≥ 9", clean)
	}

	delay.Store(int64(26 * time.Millisecond))
	for i := 0; i < 10; i++ {
		res, err := Windows(base[i], runAgainst(t, srv.URL), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Regression {
			t.Errorf("30%% slower, pair %d: verdict %s, want regression; deltas %+v", i, res.Verdict, res.Names[0].Deltas)
		}
	}
}
