package capacity

import (
	"context"
	"math"
	"testing"
	"time"
)

// benchCapacities are the simulated targets the search and the ramp are
// compared on: capacities spread over two orders of magnitude, with 10%
// latency jitter.
var benchCapacities = []float64{137, 430, 910, 1530}

// cost is what finding one capacity took.
type cost struct {
	loadS float64 // seconds under load
	sent  int64   // requests sent
	err   float64 // |found − true| / true
}

// searchCost runs Find against a simulated target of capacity c.
func searchCost(c float64, seed uint64, o Options) (cost, error) {
	sim := &simTarget{Capacity: c, Base: 20, Noise: 0.1, Seed: seed}
	ex, err := Find(context.Background(), sloPlan(100*time.Millisecond), sim, o)
	if err != nil {
		return cost{}, err
	}
	return cost{loadS: ex.LoadS, sent: ex.Sent, err: math.Abs(ex.Capacity-c) / c}, nil
}

// rampCost runs a k6-style linear ramp to failure against the same target:
// windows of the step duration, each precision × c above the last (the
// ramp is told the true capacity, its best case), no early stop, ending at
// the first unacceptable window.
func rampCost(c float64, seed uint64, o Options) (cost, error) {
	sim := &simTarget{Capacity: c, Base: 20, Noise: 0.1, Seed: seed}
	o = o.withDefaults(sloPlan(100 * time.Millisecond))
	j := newJudge(objectivesOf(sloPlan(100*time.Millisecond)), 0)
	var out cost
	delta := o.Precision * c
	last := 0.0
	for rate := o.BaselineRate; ; rate += delta {
		s, err := sim.Probe(context.Background(), Probe{
			Holds:  []Hold{{Rate: rate, Duration: o.StepDuration}},
			Warmup: time.Duration(o.Warmup * float64(o.StepDuration)),
		})
		if err != nil {
			return out, err
		}
		out.loadS += s.Elapsed.Seconds()
		out.sent += s.Sent
		if v, _ := j.verdict(s); v != Acceptable {
			break
		}
		last = rate
	}
	out.err = math.Abs(last-c) / c
	return out, nil
}

// compare totals both methods over benchCapacities, with the same step
// settings.
func compare(seed uint64, o Options) (search, ramp cost, err error) {
	for i, c := range benchCapacities {
		s, err := searchCost(c, seed+uint64(i), o)
		if err != nil {
			return search, ramp, err
		}
		r, err := rampCost(c, seed+uint64(i), o)
		if err != nil {
			return search, ramp, err
		}
		search.loadS += s.loadS
		search.sent += s.sent
		search.err = math.Max(search.err, s.err)
		ramp.loadS += r.loadS
		ramp.sent += r.sent
		ramp.err = math.Max(ramp.err, r.err)
	}
	return search, ramp, nil
}

// BenchmarkSearchVersusLinearRamp compares the doubling + binary search
// with a k6-style linear ramp to failure on simulated targets: load-seconds
// and requests spent, and the worst relative error of the capacity found.
func BenchmarkSearchVersusLinearRamp(b *testing.B) {
	var search, ramp cost
	for i := 0; i < b.N; i++ {
		var err error
		if search, ramp, err = compare(uint64(i), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(search.loadS, "search-load-s")
	b.ReportMetric(ramp.loadS, "ramp-load-s")
	b.ReportMetric(search.loadS/ramp.loadS, "load-s-ratio")
	b.ReportMetric(float64(search.sent)/float64(ramp.sent), "requests-ratio")
	b.ReportMetric(search.err*100, "search-worst-err-%")
	b.ReportMetric(ramp.err*100, "ramp-worst-err-%")
}

func TestSearchSpendsAtMostHalfTheLoadOfALinearRamp(t *testing.T) {
	search, ramp, err := compare(1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("search: %.0f load-s, %d requests, worst error %.1f%%; ramp: %.0f load-s, %d requests, worst error %.1f%%",
		search.loadS, search.sent, search.err*100, ramp.loadS, ramp.sent, ramp.err*100)
	if search.err > DefaultPrecision || ramp.err > DefaultPrecision {
		t.Errorf("worst errors: search %.1f%%, ramp %.1f%%; both must be within the 5%% precision", search.err*100, ramp.err*100)
	}
	if search.loadS > ramp.loadS/2 {
		t.Errorf("search spent %.0f load-s, more than half the ramp's %.0f", search.loadS, ramp.loadS)
	}
}
