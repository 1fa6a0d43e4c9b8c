package generator

import (
	"context"
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

func TestPacerHandsOutTurnsOneIntervalApart(t *testing.T) {
	p := newPacer(200, time.Now()) // one start every 5 ms
	ms := func(d int64) int64 { return d * int64(time.Millisecond) }
	for i, tc := range []struct{ now, want int64 }{
		{0, 0}, {0, ms(5)}, {ms(1), ms(10)}, // three users at once: one after the other
		{ms(12), ms(15)},   // asked before its turn: waits for it
		{ms(500), ms(500)}, // after an idle stretch: at once, but no credit for the idle time…
		{ms(500), ms(505)}, // …so the next waits its interval
	} {
		if got := p.claim(tc.now); got != tc.want {
			t.Errorf("claim %d at %v: turn at %v, want %v", i, time.Duration(tc.now), time.Duration(got), time.Duration(tc.want))
		}
	}
}

func TestPacerWaitEndsWithItsContext(t *testing.T) {
	p := newPacer(0.001, time.Now()) // one start every 1000 s
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	if !p.wait(ctx, timer) {
		t.Fatal("the first start had to wait")
	}
	cancel()
	done := make(chan bool, 1)
	go func() { done <- p.wait(ctx, timer) }()
	select {
	case ok := <-done:
		if ok {
			t.Error("wait returned true after its context ended, 1000 s before its turn")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait ignored its cancelled context")
	}
}
