package generator

import (
	"testing"
)

func TestWindowsRecycleTheirHistograms(t *testing.T) {
	s := newShard(2)
	var win tally
	o := outcome{us: 1500, status: 200}
	cycle := func() {
		for i := range 100 {
			o.us = int64(100 + i)
			s.record(i%2, &o)
		}
		closed := s.swap()
		for i := range closed {
			win.merge(&closed[i])
			closed[i].reset()
		}
		win.reset()
	}
	cycle()
	cycle() // both halves of the double buffer now hold histograms
	h0, h1 := s.cur[0].hist, s.spare[0].hist
	if allocs := testing.AllocsPerRun(20, cycle); allocs != 0 {
		t.Errorf("a second's record-harvest-reset cycle allocates %.0f times, want 0", allocs)
	}
	if (s.cur[0].hist != h0 && s.cur[0].hist != h1) || (s.spare[0].hist != h0 && s.spare[0].hist != h1) {
		t.Error("the shard replaced its histograms instead of reusing them")
	}
}

func TestExemplarsKeepTheSlowest(t *testing.T) {
	var x exemplars
	for _, us := range []int64{5, 90, 1, 70, 30, 60, 80, 2, 100} {
		x.offer(exemplar{us: us})
	}
	got := x.export("n", nil)
	want := []float64{0.1, 0.09, 0.08, 0.07, 0.06}
	if len(got) != len(want) {
		t.Fatalf("%d exemplars, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.LatencyMs != want[i] || e.Name != "n" {
			t.Errorf("exemplar %d = %v ms (%s), want %v ms", i, e.LatencyMs, e.Name, want[i])
		}
	}
}
