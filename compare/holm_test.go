package compare

import (
	"math"
	"testing"
)

func pv(p float64) *float64 { return &p }

// Holm–Bonferroni, a known answer: p-values 0.01, 0.04, 0.03 and 0.005
// of four tests adjust to 0.03, 0.06, 0.06 and 0.02.
func TestHolmAdjustsAKnownFamily(t *testing.T) {
	names := []Name{
		{Name: "a", Deltas: []Delta{{Metric: P50, PValue: pv(0.01)}, {Metric: P95, PValue: pv(0.04)}}},
		{Name: "b", Deltas: []Delta{{Metric: P50, PValue: pv(0.03)}, {Metric: P95, PValue: pv(0.005)}, {Metric: "capacity_rps"}}},
	}
	if m := holm(names); m != 4 {
		t.Fatalf("%d tests in the family, want 4 (the untested delta left out)", m)
	}
	want := [][]float64{{0.03, 0.06}, {0.06, 0.02}}
	for i, n := range names {
		for j, w := range want[i] {
			if got := names[i].Deltas[j].PAdjusted; got == nil || math.Abs(*got-w) > 1e-12 {
				t.Errorf("%s %s: adjusted %v, want %.3f", n.Name, n.Deltas[j].Metric, got, w)
			}
		}
	}
	if names[1].Deltas[2].PAdjusted != nil {
		t.Errorf("a delta with no test got an adjusted p-value")
	}
}

// With many request names, a change whose own p-value is below α but
// whose adjusted one is not does not regress the gate.
func TestManyNamesDoNotFailTheGateByChance(t *testing.T) {
	o := Options{}.withDefaults() // α 0.01
	var names []Name
	for i := 0; i < 10; i++ {
		names = append(names, Name{Name: string(rune('a' + i)), Deltas: []Delta{{Metric: P95, Base: 100, Current: 150, Change: 50, PValue: pv(0.5)}}})
	}
	names[3].Deltas[0].PValue = pv(0.004) // × 10 tests = 0.04 ≥ α
	holm(names)
	for i := range names {
		judge(&names[i].Deltas[0], o)
	}
	if d := names[3].Deltas[0]; d.Regressed || d.Significant {
		t.Errorf("p 0.004 among 10 tests regressed (adjusted %.3f): the correction was not applied", *d.PAdjusted)
	}
	names[3].Deltas[0].PValue = pv(0.0005) // × 10 = 0.005 < α
	holm(names)
	judge(&names[3].Deltas[0], o)
	if d := names[3].Deltas[0]; !d.Regressed {
		t.Errorf("p 0.0005 among 10 tests (adjusted %.4f) did not regress", *d.PAdjusted)
	}
}

// Windows puts every metric of every request name into one family.
func TestWindowsAdjustsOverEveryNameAndMetric(t *testing.T) {
	names := []string{"a", "b", "c"}
	base := load{seconds: 20, rps: 20, medianMs: 20, names: names}.windows(1)
	cur := load{seconds: 20, rps: 20, medianMs: 20, names: names}.windows(2)
	res, err := Windows(base, cur, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (len(names) + 1) * len(metrics); res.Tests != want {
		t.Errorf("%d tests in the family, want %d (all + 3 names, × 5 metrics)", res.Tests, want)
	}
	for _, n := range res.Names {
		for _, d := range n.Deltas {
			if d.Test != TestRank || d.PValue == nil || d.PAdjusted == nil || *d.PAdjusted < *d.PValue {
				t.Errorf("%s %s: test %q p %v adjusted %v", n.Name, d.Metric, d.Test, d.PValue, d.PAdjusted)
			}
		}
	}
}
