package generator

import (
	"math"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

func TestScheduleDueTimesFollowTheIntegral(t *testing.T) {
	for _, tc := range []struct {
		name  string
		load  plan.Load
		cap   float64
		count int
	}{
		{"constant", plan.Load{Start: 10, Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 10}}}, 0, 20},
		{"ramp up", plan.Load{Stages: []plan.Stage{{Duration: 4 * time.Second, Target: 100}}}, 0, 200},
		{"ramp down", plan.Load{Start: 100, Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 0}}}, 0, 100},
		{"idle stage", plan.Load{Stages: []plan.Stage{{Duration: time.Second, Target: 0}, {Duration: time.Second, Target: 0}}}, 0, 0},
		{"capped", plan.Load{Start: 0, Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 200}}}, 50, 88}, // 0→50 in 0.5 s (12.5), then 50/s for 1.5 s (75)
	} {
		t.Run(tc.name, func(t *testing.T) {
			prof, _ := newProfile(tc.load, tc.cap)
			want := int(math.Ceil(prof.integral(0, prof.total)))
			if want != tc.count {
				t.Fatalf("integral %d, want %d", want, tc.count)
			}
			sch := newSchedule(prof, Split{})
			var prev time.Duration = -1
			n := 0
			for {
				due, ok := sch.next()
				if !ok {
					break
				}
				if due < prev || due.Seconds() > prof.total {
					t.Fatalf("iteration %d due at %v after %v (profile %vs)", n, due, prev, prof.total)
				}
				// Iteration n is due when the integral reaches n.
				if got := prof.integral(0, due.Seconds()); math.Abs(got-float64(n)) > 1e-6 {
					t.Fatalf("iteration %d due at %v where the integral is %.6f", n, due, got)
				}
				prev = due
				n++
			}
			if n != want {
				t.Errorf("%d iterations scheduled, want %d", n, want)
			}
		})
	}
}

func TestMaxRateCapsTheProfile(t *testing.T) {
	prof, capped := newProfile(plan.Load{Start: 0, Stages: []plan.Stage{
		{Duration: 2 * time.Second, Target: 200},
		{Duration: 2 * time.Second, Target: 0},
	}}, 50)
	if !capped {
		t.Error("capped = false, want true")
	}
	if p := prof.peak(); p != 50 {
		t.Errorf("peak %v, want 50", p)
	}
	for _, at := range []float64{0.25, 1, 1.9, 2.5, 3.5, 3.9} {
		want := math.Min(50, map[bool]float64{true: 100 * at, false: 200 - 100*(at-2)}[at < 2])
		if got := prof.at(at); math.Abs(got-want) > 1e-9 {
			t.Errorf("rate at %vs = %v, want %v", at, got, want)
		}
	}
	if _, capped := newProfile(plan.Load{Start: 10, Stages: []plan.Stage{{Duration: time.Second, Target: 10}}}, 50); capped {
		t.Error("a profile under the cap reports capped")
	}
}

func TestMaxRateWarnsOnceAndCapsTheRun(t *testing.T) {
	srv := okServer(t)
	p := newPlan(srv.URL, constant(500, time.Second, 100))
	p.Abort.MaxRate = 100
	var warnings []string
	res := mustRun(t, p, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want one about max_rate", warnings)
	}
	if due := res.Summary.Iterations + res.Summary.DroppedIterations; due != 100 {
		t.Errorf("%d iterations due, want 100 (capped at max_rate)", due)
	}
}

func TestBadLoadIsRefusedNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		load  plan.Load
		field string
	}{
		{plan.Load{Model: "sideways", Stages: []plan.Stage{{Duration: time.Second}}}, "load.model"},
		{plan.Load{Model: "open"}, "load.stages"},
		{plan.Load{Model: "open", Stages: []plan.Stage{{Duration: 0, Target: 1}}}, "load.stages[0].duration"},
		{plan.Load{Model: "closed", Stages: []plan.Stage{{Duration: time.Second, Target: math.NaN()}}}, "load.stages[0].target"},
	} {
		p := newPlan("http://127.0.0.1:1", tc.load)
		_, err := Run(t.Context(), p, Options{})
		pe, ok := err.(*plan.Error)
		if !ok || pe.Field != tc.field {
			t.Errorf("load %+v: err = %v, want a plan error on %s", tc.load, err, tc.field)
		}
	}
}

func TestScheduleSkipsWhatIsDue(t *testing.T) {
	prof, _ := newProfile(plan.Load{Start: 100, Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 100}}}, 0)
	sch := newSchedule(prof, Split{})
	for range 10 { // iterations 0..9, due at 0 .. 90 ms
		sch.next()
	}
	if n := sch.skipTo(500 * time.Millisecond); n != 41 { // 10..50, due at 100 .. 500 ms
		t.Errorf("skipped %d, want 41", n)
	}
	if due, _ := sch.next(); due != 510*time.Millisecond {
		t.Errorf("next due at %v, want 510ms", due)
	}
	if n := sch.skipTo(time.Hour); n != 148 { // 52..199
		t.Errorf("skipped %d to the end, want 148", n)
	}
	if _, ok := sch.next(); ok {
		t.Error("iterations left after skipping to the end")
	}
}

func TestOpenModelAtAVeryHighRateDropsWithoutSpinning(t *testing.T) {
	srv := okServer(t)
	res := mustRun(t, newPlan(srv.URL, constant(1e6, time.Second, 4)), Options{})
	s := res.Summary
	if s.Iterations+s.DroppedIterations != 1e6 {
		t.Errorf("iterations %d + dropped %d, want 1e6 due", s.Iterations, s.DroppedIterations)
	}
	if s.Requests == 0 || s.Errors != 0 {
		t.Errorf("requests %d, errors %d", s.Requests, s.Errors)
	}
}
