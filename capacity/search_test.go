package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// sloPlan is a plan whose SLO is p99 ≤ p99 and an error rate ≤ 1%.
func sloPlan(p99 time.Duration) *plan.Plan {
	er := 0.01
	return &plan.Plan{
		Target: plan.Target{BaseURL: "http://127.0.0.1:1"},
		SLO:    plan.SLO{P99: p99, ErrorRate: &er},
		Load:   plan.Load{Model: "open", MaxVUs: 1000},
	}
}

// quick are search options for simulated targets.
var quick = Options{StepDuration: 10 * time.Second, Cooldown: 5 * time.Second}

func TestFindDoublesThenBisectsToPrecision(t *testing.T) {
	sim := &simTarget{Capacity: 500, Base: 20, Noise: 0.1, Seed: 1}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, quick)
	if err != nil {
		t.Fatal(err)
	}
	var rates []float64
	for _, st := range ex.Steps {
		rates = append(rates, st.Rate)
	}
	if want := []float64{10, 20, 40, 80, 160, 320, 640}; !slices.Equal(rates[:7], want) {
		t.Fatalf("first rates %v, want doubling %v", rates[:7], want)
	}
	for _, st := range ex.Steps[7:] {
		if st.Phase != PhaseSearch || st.Rate <= 320 || st.Rate >= 640 {
			t.Errorf("step %d at %.1f/s (%s) is outside the bracket [320, 640]", st.Index, st.Rate, st.Phase)
		}
	}
	if ex.Capacity > 500 || ex.Unacceptable <= 500 {
		t.Errorf("bracket [%.1f, %.1f] does not hold the true capacity 500", ex.Capacity, ex.Unacceptable)
	}
	if w := (ex.Unacceptable - ex.Capacity) / ex.Capacity; w > 0.05 {
		t.Errorf("bracket width %.1f%% wider than the 5%% precision", w*100)
	}
	if ex.AtLeast || ex.LimitedBy != "" {
		t.Errorf("AtLeast=%v LimitedBy=%q, want a bounded result", ex.AtLeast, ex.LimitedBy)
	}
}

func TestFindStopsAsSoonAsPrecisionIsReached(t *testing.T) {
	for _, precision := range []float64{0.02, 0.05, 0.2} {
		sim := &simTarget{Capacity: 430, Base: 20, Seed: 2}
		o := quick
		o.Precision = precision
		ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, o)
		if err != nil {
			t.Fatal(err)
		}
		if w := (ex.Unacceptable - ex.Capacity) / ex.Capacity; w > precision {
			t.Errorf("precision %.2f: final bracket width %.3f", precision, w)
		}
		// Replaying the bracket, no step ran once it was narrow enough.
		lo, hi := 0.0, 0.0
		for _, st := range ex.Steps {
			if hi > 0 && hi-lo <= precision*lo {
				t.Errorf("precision %.2f: step %d at %.1f ran with the bracket [%.1f, %.1f] already narrow", precision, st.Index, st.Rate, lo, hi)
			}
			if st.Verdict == Acceptable {
				lo = math.Max(lo, st.Rate)
			} else if hi == 0 || st.Rate < hi {
				hi = st.Rate
			}
		}
	}
}

func TestFindStopsClearlyUnacceptableStepsEarly(t *testing.T) {
	sim := &simTarget{Capacity: 200, Base: 20, Noise: 0.05, Seed: 3}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, quick)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := ex.At(320)
	if !ok {
		t.Fatalf("no step at 320/s: %v", sim.rates())
	}
	if !st.Stopped || st.Verdict != Unacceptable || st.Elapsed >= quick.StepDuration.Seconds() {
		t.Errorf("step at 320/s (1.6× capacity): stopped=%v verdict=%s after %.0fs; want stopped early and unacceptable", st.Stopped, st.Verdict, st.Elapsed)
	}
	if !strings.Contains(first(st.Reasons), "stopped early") {
		t.Errorf("reasons %q do not say it stopped early", st.Reasons)
	}
	for _, st := range ex.Steps {
		if st.Verdict == Acceptable && st.Stopped {
			t.Errorf("acceptable step at %.1f/s was stopped early", st.Rate)
		}
	}
}

func TestFindNeverOffersMoreThanMaxRate(t *testing.T) {
	cases := []struct {
		name     string
		maxRate  float64
		capacity float64
		atLeast  bool
	}{
		{"max_rate acceptable between doublings", 250, 500, true},
		{"max_rate on a doubling", 320, 500, true},
		{"max_rate above capacity", 450, 400, false},
		{"max_rate below baseline", 5, 500, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := &simTarget{Capacity: c.capacity, Base: 20, Seed: 4}
			p := sloPlan(100 * time.Millisecond)
			p.Abort.MaxRate = c.maxRate
			ex, err := Find(context.Background(), p, sim, quick)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sim.rates() {
				if r > c.maxRate {
					t.Errorf("offered %.1f/s above max_rate %.0f", r, c.maxRate)
				}
			}
			if ex.AtLeast != c.atLeast {
				t.Errorf("AtLeast = %v, want %v (%v)", ex.AtLeast, c.atLeast, ex.Notes)
			}
			if c.atLeast && (ex.Capacity != c.maxRate || ex.LimitedBy != "max_rate") {
				t.Errorf("capacity %.1f limited by %q, want ≥ max_rate %.0f", ex.Capacity, ex.LimitedBy, c.maxRate)
			}
			if !c.atLeast && math.Abs(ex.Capacity-c.capacity) > 0.05*c.capacity {
				t.Errorf("capacity %.1f, want %.0f ± 5%%", ex.Capacity, c.capacity)
			}
		})
	}
}

func TestFindReportsGeneratorThatCannotKeepUp(t *testing.T) {
	sim := &simTarget{Capacity: 800, Base: 20, GenMax: 200, Seed: 5}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, quick)
	if err != nil {
		t.Fatal(err)
	}
	last := ex.Steps[len(ex.Steps)-1]
	if last.Verdict != GeneratorLimited || last.Rate != 320 {
		t.Fatalf("last step %.0f/s %s, want 320/s generator-limited", last.Rate, last.Verdict)
	}
	if !strings.Contains(first(last.Reasons), "generator could not keep up") {
		t.Errorf("reasons %q do not blame the generator", last.Reasons)
	}
	if ex.Capacity != 160 || !ex.AtLeast || ex.LimitedBy != "generator" || ex.Unacceptable != 0 {
		t.Errorf("capacity %.0f (at least %v, by %q, unacceptable %.0f); want ≥ 160 limited by the generator",
			ex.Capacity, ex.AtLeast, ex.LimitedBy, ex.Unacceptable)
	}
}

func TestFindWithoutSLOsUsesTheRelativeRule(t *testing.T) {
	sim := &simTarget{Capacity: 370, Base: 15, Noise: 0.1, Seed: 6}
	p := &plan.Plan{Load: plan.Load{MaxVUs: 1000}}
	ex, err := Find(context.Background(), p, sim, quick)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ex.Capacity-370) > 0.05*370 {
		t.Errorf("capacity %.1f, want 370 ± 5%%", ex.Capacity)
	}
	st, _ := ex.At(ex.Unacceptable)
	if !strings.Contains(strings.Join(st.Reasons, ";"), "baseline") {
		t.Errorf("unacceptable step reasons %q do not compare with the baseline", st.Reasons)
	}
}

func TestFindSearchesBelowAnUnacceptableBaseline(t *testing.T) {
	sim := &simTarget{Capacity: 6, Base: 20, Seed: 7}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, quick)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Capacity > 6 || ex.Capacity < 6/1.05 {
		t.Errorf("capacity %.2f, want just under 6 (rates %v)", ex.Capacity, sim.rates())
	}
}

func TestFindCoolsDownAfterUnacceptableSteps(t *testing.T) {
	sim := &simTarget{Capacity: 300, Base: 20, Seed: 8}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, quick)
	if err != nil {
		t.Fatal(err)
	}
	var cooldowns int
	for i, p := range sim.probes {
		if p.Watch == nil || p.Holds[0].Duration != cooldownFactor*quick.Cooldown {
			continue
		}
		cooldowns++
		if prev := sim.probes[i-1].Holds[0].Rate; prev <= 300 {
			t.Errorf("cool-down after an acceptable step at %.0f/s", prev)
		}
		if p.Holds[0].Rate != 10 {
			t.Errorf("cool-down at %.0f/s, want the baseline rate 10/s", p.Holds[0].Rate)
		}
	}
	unacceptable := 0
	for _, st := range ex.Steps {
		if st.Verdict == Unacceptable {
			unacceptable++
		}
	}
	if cooldowns != unacceptable {
		t.Errorf("%d cool-downs for %d unacceptable steps", cooldowns, unacceptable)
	}
	if ex.LoadS <= 0 || ex.Sent <= 0 {
		t.Errorf("load not accounted: %.0f s, %d requests", ex.LoadS, ex.Sent)
	}
}

func TestFindReturnsWhatItHasWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sim := &simTarget{Capacity: 500, Base: 20, Seed: 9}
	steps := 0
	o := quick
	o.Progress = func(e Event) {
		if e.Verdict != "" {
			steps++
			if steps == 3 {
				cancel()
			}
		}
	}
	ex, err := Find(ctx, sloPlan(100*time.Millisecond), sim, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(ex.Steps) != 3 || ex.Capacity != 40 {
		t.Errorf("%d steps kept, capacity %.0f; want the 3 that ran (10, 20, 40/s) and 40/s so far", len(ex.Steps), ex.Capacity)
	}
}

func TestFindRejectsBadOptions(t *testing.T) {
	cases := map[string]Options{
		"capacity.precision":     {Precision: 2},
		"capacity.warmup":        {Warmup: 1.5},
		"capacity.step_duration": {StepDuration: time.Millisecond},
		"capacity.start_rate":    {BaselineRate: -1},
	}
	for field, o := range cases {
		_, err := Find(context.Background(), sloPlan(time.Second), &simTarget{Capacity: 10}, o)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v, want one naming the field", field, err)
		}
	}
}

// behindGenerator is a verify target whose generator achieves 317 of the
// 450 it/s asked (29.6% dropped) from second from on, where the latency it
// measures is 900 ms, nine times the SLO; before, 450 it/s at 20 ms.
func behindGenerator(from int, inFlight float64) *script {
	return &script{tick: func(sec int, rate float64) Tick {
		if sec < from {
			return second(rate, rate, int64(rate), 0, 20)
		}
		t := second(rate, 317, 317, 0, 900)
		t.Dropped = int64(rate) - 317
		if inFlight > 0 {
			t.InFlight = inFlight
		}
		return t
	}}
}

func TestFindKeepsAGeneratorLimitOnAnEarlyStop(t *testing.T) {
	o := quick
	o.BaselineRate, o.Phase, o.URL = 450, PhaseVerify, "http://fleet"
	cases := []struct {
		name   string
		prober *script
		maxVUs int
		want   Verdict
		warmup bool // judged on its warm-up
	}{
		// The SLOs broke with nothing acceptable below: the SUT's, whatever
		// the generator dropped (rule 1), and a step stopped within its
		// warm-up is judged on the warm-up's seconds (rule 10).
		{"stopped within the warm-up", behindGenerator(1, 0), 1000, Unacceptable, true},
		{"stopped after measuring", behindGenerator(3, 0), 1000, Unacceptable, false},
		{"generator keeping up", &script{tick: func(sec int, rate float64) Tick {
			return second(rate, rate, int64(rate), 0, 900)
		}}, 1000, Unacceptable, true},
		{"virtual users held by the SUT", behindGenerator(1, 285), 300, Unacceptable, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := sloPlan(100 * time.Millisecond)
			p.Load.MaxVUs = c.maxVUs
			ex, err := Find(context.Background(), p, c.prober, o)
			if err != nil {
				t.Fatal(err)
			}
			st := ex.Steps[0]
			if !st.Stopped || st.Verdict != c.want || st.Seconds == 0 || st.WarmupOnly != c.warmup {
				t.Fatalf("step: stopped=%v %s after %.0f measured s (warm-up only %v) %q; want stopped, %s, measured", st.Stopped, st.Verdict, st.Seconds, st.WarmupOnly, st.Reasons, c.want)
			}
			reasons := strings.Join(st.Reasons, "; ")
			if !strings.Contains(reasons, "stopped early") {
				t.Errorf("reasons %q do not say it stopped early", reasons)
			}
			if ex.LimitedBy == LimitedByGenerator || ex.Unacceptable == 0 || ex.Unacceptable > 450 {
				t.Errorf("unacceptable %.0f, limited by %q; want an unacceptable point at or below 450, no generator limit", ex.Unacceptable, ex.LimitedBy)
			}
			if st.Steadiness == nil || st.Steadiness.Steady {
				t.Errorf("an early-stopped step counted steady: %+v", st.Steadiness)
			}
		})
	}
}

// A step that broke its SLOs while the generator fell behind, completing
// no more than the last acceptable step (290 req/s after 300 acceptable),
// says nothing about the SUT: the search stops at a generator limit.
func TestFindBlamesTheGeneratorAtOrBelowTheLowEnd(t *testing.T) {
	o := quick
	o.BaselineRate, o.From = 300, 600
	prober := &script{tick: func(sec int, rate float64) Tick {
		if rate <= 300 {
			return second(rate, rate, int64(rate), 0, 20)
		}
		tk := second(rate, 290, 290, 0, 900)
		tk.Dropped, tk.Busy = int64(rate)-290, 50
		return tk
	}}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), prober, o)
	if err != nil {
		t.Fatal(err)
	}
	last := ex.Steps[len(ex.Steps)-1]
	if last.Verdict != GeneratorLimited || ex.LimitedBy != LimitedByGenerator || !ex.AtLeast || ex.Capacity != 300 {
		t.Fatalf("last step %.0f/s %s %q; search capacity %.0f limited by %q; want generator-limited at ≥ 300", last.Rate, last.Verdict, last.Reasons, ex.Capacity, ex.LimitedBy)
	}
	if r := strings.Join(last.Reasons, "; "); !strings.Contains(r, "no more than the last acceptable step's 300.0 req/s") && !strings.Contains(r, "generator could not keep up") {
		t.Errorf("reasons %q do not say why the generator is blamed", r)
	}
}

// The demo's ladder: acceptable up to 160 it/s (376 req/s), then at
// 320 it/s the SLOs break at 489 req/s with 9% of iterations dropped and
// the virtual users at the cap. The step is unacceptable and the search
// bisects [160, 320] to the precision instead of stopping at "capacity ≥".
func TestFindDemoStep6BisectsInsteadOfBlamingTheGenerator(t *testing.T) {
	for _, busy := range []float64{990, 500} {
		p := sloPlan(400 * time.Millisecond)
		p.SLO.P95 = 200 * time.Millisecond
		prober := &script{tick: func(sec int, rate float64) Tick {
			if rate <= 240 {
				rps := 2.35 * rate
				return second(rate, rate, int64(rps), 0, 120)
			}
			requests := int64(2.3 * rate)
			if rate == 320 {
				requests = 489
			}
			tk := second(rate, 0.91*rate, requests, 0, 1994)
			tk.Dropped, tk.Busy, tk.InFlight = int64(0.09*rate)+1, busy, 330
			return tk
		}}
		ex, err := Find(context.Background(), p, prober, Options{StepDuration: 30 * time.Second, Cooldown: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var ladder []string
		for _, st := range ex.Steps {
			ladder = append(ladder, fmt.Sprintf("%s %.0f/s %s", st.Phase, st.Rate, st.Verdict))
		}
		six := ex.Steps[5]
		if six.Rate != 320 || six.Verdict != Unacceptable {
			t.Fatalf("busy %.0f: step 6 %.0f/s %s (%q), want 320/s unacceptable; ladder %v", busy, six.Rate, six.Verdict, six.Reasons, ladder)
		}
		if len(ex.Steps) < 7 || ex.Steps[6].Phase != PhaseSearch || ex.Steps[6].Rate <= 160 || ex.Steps[6].Rate >= 320 {
			t.Fatalf("busy %.0f: no bisection after step 6: %v", busy, ladder)
		}
		if ex.AtLeast || ex.LimitedBy != "" || ex.Capacity < 240 || ex.Unacceptable > 240*1.05 || ex.Unacceptable <= ex.Capacity {
			t.Errorf("busy %.0f: bracket [%.1f, %.1f] at least %v by %q; want [240, ≤ 252], bounded; ladder %v", busy, ex.Capacity, ex.Unacceptable, ex.AtLeast, ex.LimitedBy, ladder)
		}
	}
}
