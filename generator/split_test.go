package generator

import (
	"slices"
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

func TestSplitRefusesTheClosedModel(t *testing.T) {
	err := Split{Index: 0, Count: 2}.check(plan.Load{Model: "closed"})
	if err == nil || err.Field != "load.model" {
		t.Fatalf("err = %v", err)
	}
	if err := (Split{Index: 2, Count: 2}).check(plan.Load{Model: "open"}); err == nil {
		t.Fatal("index 2 of 2 accepted")
	}
}
