package capacity

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestStressMeasuresRecoveryOfADrainingBacklog(t *testing.T) {
	// Capacity 200/s with a 400-request queue: 10 s at 300/s fills it; at
	// 100/s it drains at 100/s, so the 400 queued take 4 s and the fifth
	// second after the drop is the first whose p99 is under 100ms.
	sim := &simTarget{Capacity: 200, Base: 20, QueueMax: 400, Seed: 10}
	var elapsed time.Duration
	prober := ProberFunc(func(ctx context.Context, p Probe) (Summary, error) {
		s, err := sim.Probe(ctx, p)
		elapsed = s.Elapsed
		return s, err
	})
	r, err := Stress(context.Background(), sloPlan(100*time.Millisecond), prober, Surge{
		Rate: 300, Hold: 10 * time.Second, RecoveryRate: 100, Window: 60 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Recovered || r.RecoveryS == nil || *r.RecoveryS != 4 {
		t.Fatalf("recovered=%v after %v s, want 4 s: %s", r.Recovered, r.RecoveryS, r.Statement)
	}
	if want := 10*time.Second + (4+RecoverySeconds)*time.Second; elapsed != want {
		t.Errorf("run lasted %s, want it to end once recovered (%s)", elapsed, want)
	}
	if r.ErrorRate < 0.2 || r.WorstP99 < 1900 {
		t.Errorf("hold error rate %.2f worst p99 %.0fms; want the overload visible (≈⅓ rejected, 2 s queue)", r.ErrorRate, r.WorstP99)
	}
}

func TestStressReportsNoRecovery(t *testing.T) {
	sim := &simTarget{Capacity: 200, Base: 20, Seed: 11}
	r, err := Stress(context.Background(), sloPlan(100*time.Millisecond), sim, Surge{
		Rate: 300, Hold: 5 * time.Second, RecoveryRate: 220, Window: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Recovered || r.RecoveryS != nil {
		t.Fatalf("recovered in %v s at 1.1× capacity", *r.RecoveryS)
	}
	if !strings.Contains(r.Statement, "did not recover within 30s") {
		t.Errorf("statement %q does not say it did not recover within 30s", r.Statement)
	}
}

func TestStressWithoutSLOsComparesWithBaselineP99(t *testing.T) {
	sim := &simTarget{Capacity: 200, Base: 20, QueueMax: 400, Seed: 12}
	r, err := Stress(context.Background(), nil, sim, Surge{
		Rate: 300, Hold: 10 * time.Second, RecoveryRate: 100, Window: 60 * time.Second,
		Baseline: Latency{P99: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Good seconds need p99 ≤ 40ms: the backlog must be fully drained.
	if !r.Recovered || *r.RecoveryS != 4 || !strings.Contains(r.Criterion, "baseline") {
		t.Errorf("recovered=%v in %v s by %q; want 4 s against the baseline", r.Recovered, r.RecoveryS, r.Criterion)
	}
}

func TestStressRejectsBadSurge(t *testing.T) {
	_, err := Stress(context.Background(), nil, &simTarget{Capacity: 1}, Surge{Rate: 10, Hold: time.Second, RecoveryRate: 5, Window: time.Second})
	if err == nil || !strings.Contains(err.Error(), "window") {
		t.Errorf("err = %v, want one about the window", err)
	}
}
