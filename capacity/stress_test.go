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

// fastErrors is a service that, under stress, queues (p99 2 s, 30%
// errors) and after the drop answers in 8 ms — with failed (503)
// answers among every 100 requests a second until second until.
func fastErrors(failed int64, until int) *script {
	return &script{tick: func(sec int, rate float64) Tick {
		if sec <= 10 {
			return second(rate, rate, int64(rate), int64(0.3*rate), 2000)
		}
		if sec <= until {
			return second(rate, rate, 100, failed, 8)
		}
		return second(rate, rate, 100, 0, 8)
	}}
}

func TestStressDoesNotCountFastErrorsAsRecovered(t *testing.T) {
	surge := Surge{Rate: 300, Hold: 10 * time.Second, RecoveryRate: 100, Window: 30 * time.Second}
	t.Run("errors never stop", func(t *testing.T) {
		r, err := Stress(context.Background(), sloPlan(100*time.Millisecond), fastErrors(20, 1000), surge)
		if err != nil {
			t.Fatal(err)
		}
		if r.Recovered || r.RecoveryS != nil {
			t.Fatalf("recovered after %v s while 20%% of answers were fast errors: %s", *r.RecoveryS, r.Statement)
		}
		if !strings.Contains(r.LastMiss, "error_rate") || !strings.Contains(r.Statement, "20.00%") {
			t.Errorf("last miss %q, statement %q; want the error rate named", r.LastMiss, r.Statement)
		}
		if !strings.Contains(r.Criterion, "p99") || !strings.Contains(r.Criterion, "error_rate") {
			t.Errorf("criterion %q does not name both SLOs", r.Criterion)
		}
	})
	t.Run("errors stop 10 s after the drop", func(t *testing.T) {
		// Latency is back at once; the SLOs are back from the 21st second,
		// the 11th after the drop (0-based: 10).
		r, err := Stress(context.Background(), sloPlan(100*time.Millisecond), fastErrors(20, 20), surge)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Recovered || r.RecoveryS == nil || *r.RecoveryS != 10 {
			t.Fatalf("recovered=%v after %v s, want 10 s (when the errors stopped): %s", r.Recovered, r.RecoveryS, r.Statement)
		}
	})
	t.Run("without SLOs, against the baseline's error rate", func(t *testing.T) {
		s := surge
		s.Baseline, s.BaselineErrorRate = Latency{P99: 10}, 0
		r, err := Stress(context.Background(), nil, fastErrors(3, 1000), s)
		if err != nil {
			t.Fatal(err)
		}
		if r.Recovered {
			t.Errorf("recovered with 3%% errors against a baseline of none: %s", r.Statement)
		}
		if !strings.Contains(r.Criterion, "error rate") {
			t.Errorf("criterion %q does not name the error rate", r.Criterion)
		}
	})
}
