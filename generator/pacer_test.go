package generator

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

func TestMaxRateCapsTheClosedModel(t *testing.T) {
	// 16 users with no think time against a fast server would start
	// thousands of iterations a second; abort.max_rate 50/s must hold them.
	srv := okServer(t)
	l := plan.Load{Model: "closed", Start: 16, Stages: []plan.Stage{{Duration: 3 * time.Second, Target: 16}}}
	p := newPlan(srv.URL, l)
	p.Abort.MaxRate = 50
	var mu sync.Mutex
	var warnings []string
	res := mustRun(t, p, Options{Warn: func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	}})
	d := res.End.Sub(res.Start).Seconds()
	s := res.Summary
	if rate := float64(s.Iterations) / d; rate > 50*1.02+2/d || s.Iterations < 50 {
		t.Errorf("%d iterations in %.2f s = %.1f/s, want ≤ 50/s and a real run", s.Iterations, d, rate)
	}
	lengths := windowLengths(res)
	for i, w := range res.Seconds {
		if limit := 50*lengths[i].Seconds() + 2; float64(w.Iterations) > limit {
			t.Errorf("window %d started %d iterations in %v, want ≤ %.0f", i, w.Iterations, lengths[i], limit)
		}
	}
	if res.CappedAt != 50 {
		t.Errorf("capped at %g, want 50", res.CappedAt)
	}
	mu.Lock()
	defer mu.Unlock()
	var capped int
	for _, w := range warnings {
		if strings.Contains(w, "abort.max_rate") {
			capped++
		}
	}
	if capped != 1 {
		t.Errorf("warnings %q, want exactly one about abort.max_rate", warnings)
	}
}
