package correlate

import (
	"testing"
	"time"
)

func TestFindWindowOnRunSeconds(t *testing.T) {
	in := Input{Seconds: runSeconds(120, knee, 50, 900, 50, 300), SLOP99Ms: 400}
	w, err := FindWindow(in)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Found || !w.Onset.Equal(t0.Add(knee)) {
		t.Fatalf("onset %v found %v, want %v", w.Onset, w.Found, t0.Add(knee))
	}
	if !w.Start.Equal(t0.Add(knee-10*time.Second)) || !w.End.Equal(t0.Add(120*time.Second)) {
		t.Errorf("window [%v, %v]", w.Start, w.End)
	}
	// Baseline ends before the margin and holds at most 60 s of acceptable load.
	if !w.BaselineEnd.Equal(t0.Add(50*time.Second)) || !w.BaselineStart.Equal(t0) {
		t.Errorf("baseline [%v, %v]", w.BaselineStart, w.BaselineEnd)
	}
	if w.BaselineP99Ms != 50 || w.DegradedP99Ms != 900 || w.BaselineRate != 50 || w.DegradedRate != 300 {
		t.Errorf("window figures %+v", w)
	}
}

func TestFindWindowNeedsThreeSustainedSeconds(t *testing.T) {
	pts := runSeconds(60, 200*time.Second, 50, 50, 50, 50) // never degrades
	pts[10].P99Ms, pts[11].P99Ms = 900, 900                // a two-second blip
	pts[30].P99Ms, pts[31].P99Ms, pts[32].P99Ms = 900, 900, 900
	w, err := FindWindow(Input{Seconds: pts, SLOP99Ms: 400})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Onset.Equal(pts[30].At) || !w.End.Equal(pts[32].At.Add(time.Second)) {
		t.Errorf("onset %v end %v, want the three-second episode at 30 s", w.Onset, w.End)
	}
	// The blip is acceptable load: the baseline runs through it.
	if !w.BaselineStart.Equal(pts[0].At) || !w.BaselineEnd.Equal(pts[20].At) {
		t.Errorf("baseline [%v, %v], want [0 s, 20 s]", w.BaselineStart, w.BaselineEnd)
	}
}

func TestFindWindowWithoutSLOUsesDoubling(t *testing.T) {
	pts := runSeconds(60, 40*time.Second, 20, 45, 10, 10)
	w, err := FindWindow(Input{Seconds: pts})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Found || w.ThresholdMs != 40 || !w.Onset.Equal(t0.Add(40*time.Second)) {
		t.Errorf("window %+v, want onset at 40 s with a 40 ms threshold", w)
	}
	pts = runSeconds(60, 40*time.Second, 20, 35, 10, 10) // less than double
	if w, _ := FindWindow(Input{Seconds: pts}); w.Found {
		t.Errorf("p99 rising 75%% is no degradation: %+v", w)
	}
}

func TestFindWindowOnStudySteps(t *testing.T) {
	step := func(i int, offered, p99 float64) Step {
		start := t0.Add(time.Duration(i) * 40 * time.Second)
		return Step{Start: start, End: start.Add(30 * time.Second), Offered: offered, Achieved: offered, P99Ms: p99}
	}
	steps := []Step{step(0, 10, 40), step(1, 20, 45), step(2, 40, 60), step(3, 80, 900), step(4, 60, 500), step(5, 50, 80)}
	w, err := FindWindow(Input{Steps: steps, SLOP99Ms: 400})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Onset.Equal(steps[3].Start) || !w.End.Equal(steps[4].End) {
		t.Errorf("degraded [%v, %v], want steps 3–4", w.Onset, w.End)
	}
	if !w.BaselineStart.Equal(steps[2].Start) || !w.BaselineEnd.Equal(steps[2].End) || w.DegradedOffered != 80 {
		t.Errorf("baseline [%v, %v] offered %v, want step 2 and 80/s", w.BaselineStart, w.BaselineEnd, w.DegradedOffered)
	}
}

func TestFindWindowRejectsEmptyAndNegative(t *testing.T) {
	if _, err := FindWindow(Input{}); err == nil {
		t.Error("empty input: want an error")
	}
	if _, err := FindWindow(Input{Seconds: runSeconds(10, 0, 1, 1, 1, 1), SLOP99Ms: -1}); err == nil {
		t.Error("negative SLO: want an error")
	}
}

func TestPearson(t *testing.T) {
	r, ok := pearson([]float64{1, 2, 3, 4}, []float64{2, 4, 6, 8})
	if !ok || !near(r, 1, 1e-9) {
		t.Errorf("perfect line: r=%v ok=%v", r, ok)
	}
	r, ok = pearson([]float64{1, 2, 3, 4}, []float64{8, 6, 4, 2})
	if !ok || !near(r, -1, 1e-9) {
		t.Errorf("inverse line: r=%v", r)
	}
	if _, ok := pearson([]float64{1, 1, 1}, []float64{1, 2, 3}); ok {
		t.Error("a flat side has no correlation")
	}
}

func TestIndexCandidates(t *testing.T) {
	h := IndexCandidates(listStmt)
	if h.Table != "products" || len(h.Columns) != 2 || h.Columns[0] != "category_id" || h.Columns[1] != "created_at" {
		t.Errorf("hint %+v", h)
	}
	h = IndexCandidates("SELECT o.id FROM orders o WHERE o.user_id = ? AND o.status IN (?, ?) AND deleted_at IS NULL")
	want := []string{"user_id", "status", "deleted_at"}
	if h.Table != "orders" || len(h.Columns) != len(want) {
		t.Fatalf("hint %+v, want %v", h, want)
	}
	for i := range want {
		if h.Columns[i] != want[i] {
			t.Errorf("column %d = %s, want %s", i, h.Columns[i], want[i])
		}
	}
}

func TestSelfTimeSubtractsOverlappingChildrenOnce(t *testing.T) {
	ms := time.Millisecond
	sp := func(id, parent string, from, to time.Duration) Span {
		return Span{ID: id, ParentID: parent, Name: id, Start: t0.Add(from), End: t0.Add(to)}
	}
	tr := newTree(Trace{Spans: []Span{
		sp("root", "", 0, 100*ms),
		sp("a", "root", 10*ms, 40*ms),
		sp("b", "root", 30*ms, 50*ms),  // overlaps a: 10–50 covered
		sp("c", "root", 90*ms, 120*ms), // clipped to 90–100
	}})
	if got := tr.selfTime(0); got != 50*ms {
		t.Errorf("root self-time %v, want 50ms", got)
	}
	if root, _ := tr.root(); root.Name != "root" {
		t.Errorf("root %q", root.Name)
	}
}

func TestSerialSiblingsAreFound(t *testing.T) {
	ms := time.Millisecond
	sp := func(id, parent string, from, to time.Duration) Span {
		return Span{ID: id, ParentID: parent, Name: id, Start: t0.Add(from), End: t0.Add(to)}
	}
	serial := newTree(Trace{ID: "t1", Spans: []Span{
		sp("root", "", 0, 100*ms), sp("inventory", "root", 5*ms, 45*ms), sp("pricing", "root", 50*ms, 95*ms),
	}})
	parallel := newTree(Trace{ID: "t2", Spans: []Span{
		sp("root", "", 0, 100*ms), sp("inventory", "root", 5*ms, 90*ms), sp("pricing", "root", 10*ms, 95*ms),
	}})
	got := findSerial([]tree{serial})
	if len(got) != 1 || got[0].Parent != "root" || len(got[0].Spans) != 2 || !near(got[0].SumMs-got[0].LongestMs, 40, 0.01) {
		t.Errorf("serial %+v", got)
	}
	if got := findSerial([]tree{parallel}); len(got) != 0 {
		t.Errorf("overlapping siblings reported as serial: %+v", got)
	}
}
