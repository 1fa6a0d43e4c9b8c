package capacity

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTrendOfInFlight(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		steady bool
		rise   float64
	}{
		{"flat", []float64{12, 12, 12, 12, 12, 12, 12, 12}, true, 0},
		{"jitter without a trend", []float64{12, 15, 10, 13, 11, 14, 12, 13}, true, math.NaN()},
		// A queue building: 10 → 30 over 8 seconds.
		{"climbing", []float64{10, 12.857, 15.714, 18.571, 21.429, 24.286, 27.143, 30}, false, 20},
		{"draining", []float64{30, 27.143, 24.286, 21.429, 18.571, 15.714, 12.857, 10}, false, -20},
		// At a low level a rise of less than one request is jitter.
		{"low level", []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, true, 0.7},
		{"two seconds, the rise alone", []float64{10, 30}, false, 20},
		{"two seconds level", []float64{10, 11}, true, 1},
		{"one second", []float64{12}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := trendOf(tt.values)
			if d.Steady != tt.steady {
				t.Errorf("steady = %v (%s), want %v", d.Steady, d.Why, tt.steady)
			}
			if !math.IsNaN(tt.rise) && math.Abs(d.InFlightRise-tt.rise) > 0.01 {
				t.Errorf("rise = %.3f, want %.3f", d.InFlightRise, tt.rise)
			}
			if !d.Steady && d.Why == "" {
				t.Error("not steady without a reason")
			}
		})
	}
}

func TestFindMarksAStepWhoseQueueBuildsNotSteady(t *testing.T) {
	// 302/s against 300/s of capacity: the backlog grows by 2 a second, so
	// the p99 stays under the SLO's 100ms over a 10 s step (20 ms + at most
	// 67 ms of queue) while the in-flight count climbs from ≈10 to ≈26.
	sim := &simTarget{Capacity: 300, Base: 20, Seed: 30}
	o := quick
	o.BaselineRate, o.MaxSteps = 302, 1
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, o)
	if err != nil {
		t.Fatal(err)
	}
	st := ex.Steps[0]
	if st.Verdict != Acceptable || st.Stopped {
		t.Fatalf("step at 302/s: %s stopped=%v %v; want acceptable, run to its end", st.Verdict, st.Stopped, st.Reasons)
	}
	d := st.Steadiness
	if d == nil || d.Steady || d.InFlightRise < 10 || d.Seconds != 8 || !strings.Contains(d.Why, "in-flight rose") {
		t.Fatalf("steadiness %+v; want not steady, in-flight rising by > 10 over 8 measured seconds", d)
	}
	sc := fitSteps(ex.Steps, 0)
	if len(sc.Excluded) != 1 || !strings.HasPrefix(sc.Excluded[0], "step 1 at 302/s: in-flight rose") {
		t.Errorf("excluded %q; want step 1 for its in-flight trend", sc.Excluded)
	}
	// The same rate well inside capacity is steady.
	sim = &simTarget{Capacity: 300, Base: 20, Noise: 0.1, Seed: 31}
	o.BaselineRate = 200
	ex, err = Find(context.Background(), sloPlan(100*time.Millisecond), sim, o)
	if err != nil {
		t.Fatal(err)
	}
	if d := ex.Steps[0].Steadiness; d == nil || !d.Steady {
		t.Errorf("step at 200/s of 300/s: steadiness %+v; want steady", d)
	}
}

// uslSteps are steps measured exactly on truth at the concurrencies ns.
func uslSteps(truth USL, ns ...float64) []Step {
	var steps []Step
	for i, n := range ns {
		x := truth.Throughput(n)
		steps = append(steps, Step{
			Index: i + 1, Rate: math.Round(x), Throughput: x, Goodput: x, InFlight: n, Seconds: 8,
			Verdict: Acceptable, Steadiness: &Steadiness{Steady: true, Seconds: 8, InFlightMean: n},
		})
	}
	return steps
}

func TestFitStepsUsesSteadyStepsOnly(t *testing.T) {
	// λ 100, σ 0.05, κ 0.002: the peak is 740 req/s at concurrency 21.8.
	truth := USL{Lambda: 100, Sigma: 0.05, Kappa: 0.002}
	steady := uslSteps(truth, 2, 4, 8, 12, 16, 20, 24)
	wantN := math.Sqrt((1 - truth.Sigma) / truth.Kappa)
	wantX := truth.Throughput(wantN)
	// A step stopped early while its queue grew: a high mean in-flight
	// count with the throughput of its climb, no point of the curve.
	climbing := Step{Index: 8, Rate: 900, Throughput: 880, Goodput: 880, InFlight: 40, Seconds: 3, Stopped: true, Verdict: Unacceptable}
	drifting := Step{Index: 9, Rate: 850, Throughput: 860, Goodput: 860, InFlight: 34, Seconds: 8, Verdict: Acceptable,
		Steadiness: &Steadiness{Steady: false, Why: "in-flight rose by 30.0 over the 8 measured seconds (mean 34.0): not one level of concurrency"}}
	steps := append(append([]Step(nil), steady...), climbing, drifting)

	sc := fitSteps(steps, 0)
	if !sc.Reported || sc.Points != 7 {
		t.Fatalf("fit %+v; want reported over the 7 steady steps", sc)
	}
	if math.Abs(sc.PeakX-wantX) > 0.01*wantX || math.Abs(sc.PeakN-wantN) > 0.02*wantN {
		t.Errorf("peak %.1f req/s at %.1f; want %.1f at %.1f (the steady steps' curve)", sc.PeakX, sc.PeakN, wantX, wantN)
	}
	if len(sc.Excluded) != 2 || !strings.Contains(sc.Excluded[0], "step 8 at 900/s: stopped early") ||
		!strings.Contains(sc.Excluded[1], "step 9 at 850/s: in-flight rose") {
		t.Errorf("excluded %q; want steps 8 (stopped early) and 9 (in-flight trend)", sc.Excluded)
	}
	if sc.Extrapolated || sc.AboveUnacceptable {
		t.Errorf("peak inside the measured range labelled extrapolated=%v above=%v", sc.Extrapolated, sc.AboveUnacceptable)
	}
	// Guard: fitted as if steady, the two steps move the peak.
	climbing.Stopped, climbing.Verdict = false, Acceptable
	drifting.Steadiness = nil
	all := fitSteps(append(append([]Step(nil), steady...), climbing, drifting), 0)
	if math.Abs(all.PeakX-wantX) < 0.05*wantX && all.Reported {
		t.Errorf("the unsteady steps do not move the fit (peak %.1f): the test proves nothing", all.PeakX)
	}
}

func TestFitStepsLabelsAPeakBeyondTheMeasurements(t *testing.T) {
	truth := USL{Lambda: 100, Sigma: 0.05, Kappa: 0.002}
	peakX := truth.Throughput(math.Sqrt((1 - truth.Sigma) / truth.Kappa)) // ≈ 740
	// Measured up to concurrency 12, well below the peak at 21.8, and
	// unacceptable from 650 req/s.
	sc := fitSteps(uslSteps(truth, 1, 2, 4, 6, 8, 10, 12), 650)
	if !sc.Reported || math.Abs(sc.PeakX-peakX) > 0.01*peakX {
		t.Fatalf("fit %+v; want the true peak %.1f", sc, peakX)
	}
	if !sc.Extrapolated || sc.MaxMeasuredN != 12 {
		t.Errorf("extrapolated=%v max measured %.1f; want extrapolated beyond 12", sc.Extrapolated, sc.MaxMeasuredN)
	}
	if !sc.AboveUnacceptable {
		t.Error("a peak of 740 req/s above the unacceptable 650 req/s is not caveated")
	}
	caveats := strings.Join(sc.Caveats, "\n")
	for _, want := range []string{"beyond the highest measured 12.0", "above the measured unacceptable point 650 req/s"} {
		if !strings.Contains(caveats, want) {
			t.Errorf("caveats %q lack %q", caveats, want)
		}
	}
	s := &Study{USL: sc}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "(extrapolated) (above the unacceptable point: not a capacity)") {
		t.Errorf("text does not label the peak:\n%s", b.String())
	}
}
