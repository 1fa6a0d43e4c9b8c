package generator

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// TestSplitSchedulesPartitionTheWhole: three shares of a ramp take every
// arrival of the whole schedule exactly once, at the same due times.
func TestSplitSchedulesPartitionTheWhole(t *testing.T) {
	l := plan.Load{Model: "open", Start: 10, Stages: []plan.Stage{{Duration: 3 * time.Second, Target: 70}, {Duration: 2 * time.Second, Target: 70}}}
	prof, _ := newProfile(l, 0)
	var whole []time.Duration
	for sch := newSchedule(prof, Split{}); ; {
		d, ok := sch.next()
		if !ok {
			break
		}
		whole = append(whole, d)
	}
	var parts []time.Duration
	for i := range 3 {
		n := 0
		for sch := newSchedule(prof, Split{Index: i, Count: 3}); ; n++ {
			d, ok := sch.next()
			if !ok {
				break
			}
			parts = append(parts, d)
		}
		if want := (len(whole) - i + 2) / 3; n != want {
			t.Errorf("share %d took %d arrivals, want %d", i, n, want)
		}
	}
	slices.Sort(parts)
	if !slices.Equal(parts, whole) {
		t.Fatalf("the shares' arrivals (%d) differ from the whole schedule's (%d)", len(parts), len(whole))
	}
}

// TestSplitSkipCountsOwnArrivals: dropping everything due up to a time
// counts only the share's own arrivals.
func TestSplitSkipCountsOwnArrivals(t *testing.T) {
	prof, _ := newProfile(plan.Load{Model: "open", Start: 100, Stages: []plan.Stage{{Duration: 10 * time.Second, Target: 100}}}, 0)
	var sum int64
	for i := range 4 {
		sum += newSchedule(prof, Split{Index: i, Count: 4}).skipTo(time.Second)
	}
	whole := newSchedule(prof, Split{}).skipTo(time.Second)
	if sum != whole {
		t.Fatalf("shares skipped %d, the whole schedule %d", sum, whole)
	}
}

func TestSplitChecksItsShare(t *testing.T) {
	for _, sp := range []Split{{Index: 2, Count: 2}, {Index: -1, Count: 2}, {Index: 0, Count: -1}} {
		if err := sp.check(); err == nil || err.Field != "split" {
			t.Errorf("%+v: err = %v, want one naming the split", sp, err)
		}
	}
	for _, sp := range []Split{{}, {Index: 0, Count: 1}, {Index: 2, Count: 3}} {
		if err := sp.check(); err != nil {
			t.Errorf("%+v: %v", sp, err)
		}
	}
}

// TestSplitUsersPartitionTheWhole: at every closed-model target the
// shares' users add up to it, and no share holds more than one user over
// another.
func TestSplitUsersPartitionTheWhole(t *testing.T) {
	for count := 1; count <= 5; count++ {
		for n := 0; n <= 23; n++ {
			sum, lo, hi := 0, n, 0
			for i := range count {
				u := Split{Index: i, Count: count}.users(n)
				sum, lo, hi = sum+u, min(lo, u), max(hi, u)
			}
			if sum != n || hi-lo > 1 {
				t.Errorf("%d users in %d shares: the shares hold %d (from %d to %d)", n, count, sum, lo, hi)
			}
		}
	}
	if got := (Split{}).users(7); got != 7 {
		t.Errorf("no split holds %d of 7 users", got)
	}
}

// TestSplitClosedModelRunsTheShareOfUsers: two runs, each one share of a
// closed model of 5 users, hold 3 and 2 users, 5 in all at the server;
// under abort.max_rate 40/s each paces its starts at its users' share.
func TestSplitClosedModelRunsTheShareOfUsers(t *testing.T) {
	srv, peak := peakServer(t, 50*time.Millisecond)
	l := plan.Load{Model: "closed", Start: 5, Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 5}}}
	both := func(p *plan.Plan) []*Result {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now().Add(200 * time.Millisecond)
		res := make([]*Result, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range res {
			wg.Go(func() {
				res[i], errs[i] = Run(ctx, p, Options{Split: Split{Index: i, Count: 2}, StartAt: start, Warn: func(msg string) { t.Logf("warning: %s", msg) }})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		return res
	}

	res := both(newPlan(srv.URL, l))
	if got := peak.Load(); got != 5 {
		t.Errorf("peak concurrent requests at the server = %d, want the plan's 5 users", got)
	}
	for i, want := range []int{3, 2} {
		if secs := res[i].Seconds; len(secs) < 2 || secs[1].VUs != want {
			t.Errorf("share %d: seconds %+v, want %d users in the second", i, secs, want)
		}
	}

	// Unpaced the shares would start about 60 and 40 iterations a second;
	// each is held to its users' share of 40/s: 3/5 and 2/5, 24/s and
	// 16/s, about 48 and 32 in 2 s.
	p := newPlan(srv.URL, l)
	p.Abort.MaxRate = 40
	for i, r := range both(p) {
		want := []float64{48, 32}[i]
		t.Logf("share %d: %d iterations, want about %.0f", i, r.Summary.Iterations, want)
		if it := float64(r.Summary.Iterations); it < 0.6*want || it > 1.2*want {
			t.Errorf("share %d started %.0f iterations in 2 s, want about %.0f (its users' share of abort.max_rate)", i, it, want)
		}
	}
}

// TestSplitClosedModelSizesTheShare: an agent sizes its connections and
// caches for its own users, not the fleet's (250 users on 3 agents: 84,
// 83 and 83), and paces at their share of abort.max_rate.
func TestSplitClosedModelSizesTheShare(t *testing.T) {
	p := newPlan("http://127.0.0.1:1", plan.Load{Model: "closed", Start: 250, Stages: []plan.Stage{{Duration: time.Second, Target: 250}}})
	p.Abort.MaxRate = 1000
	for i, want := range []int{84, 83, 83} {
		e, err := newEngine(context.Background(), p, Options{Split: Split{Index: i, Count: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.maxUsers(); got != want {
			t.Errorf("share %d of 3: sized for %d users, want %d", i, got, want)
		}
		if got, rate := e.paceRate(), 1000*float64(want)/250; got != rate {
			t.Errorf("share %d of 3: paced at %.1f/s, want %.1f", i, got, rate)
		}
	}
	e, err := newEngine(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.maxUsers() != 250 || e.paceRate() != 1000 {
		t.Errorf("no split: sized for %d users, paced at %.0f/s; want 250 and 1000", e.maxUsers(), e.paceRate())
	}
}
