package merge

import (
	"math/rand/v2"
	"testing"
)

// run feeds seconds [from, to) of specs to m, spec(s) giving each second's
// agents, and returns the emitted seconds.
func run(t *testing.T, m *Merger, r *rand.Rand, from, to int64, spec func(s int64) []agentSpec) []Second {
	t.Helper()
	var out []Second
	for s := from; s < to; s++ {
		for _, a := range spec(s) {
			mustAdd(t, m, window(t, r, a, s, names, nil), Accepted)
		}
		out = append(out, m.Ready(t0)...)
	}
	return out
}

func TestAgentDepartingFromTheFleetIsFlaggedWithFigures(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	fleet := []agentSpec{{"a", 10_000, 60}, {"b", 11_000, 60}, {"c", 9_500, 60}, {"d", 10_500, 60}}
	noisy := fleet[3]
	noisy.medianUs = 60_000 // a noisy neighbour: six times slower from second 2 to 5
	m := mustNew(t, Options{Agents: ids(fleet), Start: t0, Outliers: OutlierOptions{Factor: 2, Seconds: 3}})
	secs := run(t, m, r, 0, 10, func(s int64) []agentSpec {
		if s >= 2 && s <= 5 {
			return []agentSpec{fleet[0], fleet[1], fleet[2], noisy}
		}
		return fleet
	})
	if len(secs) != 10 {
		t.Fatalf("emitted %d seconds, want 10", len(secs))
	}
	flaggedAt := map[int64]bool{}
	for _, s := range secs {
		for _, o := range s.Outliers {
			if o.Agent != "d" {
				t.Errorf("second %d: %s flagged (%+v); only d departs", s.Index, o.Agent, o)
			}
			flaggedAt[s.Index] = true
		}
	}
	// Departing at 2, 3, 4 → flagged from 4; calm at 6, 7, 8 → unflagged at 8.
	for s := int64(0); s < 10; s++ {
		want := s >= 4 && s <= 7
		if flaggedAt[s] != want {
			t.Errorf("second %d: flagged %v, want %v", s, flaggedAt[s], want)
		}
	}
	o := secs[5].Outliers[0]
	t.Logf("flagged: %+v", o)
	if o.Stat != P99 || o.Since != 2 || o.Seconds != 4 || o.Ratio < 2 || o.AgentMs < 2*o.FleetMs || o.FleetMs <= 0 {
		t.Errorf("figures %+v: want p99, since second 2, 4 seconds, agent at least twice the fleet", o)
	}
	if got := m.Outliers(); len(got) != 0 {
		t.Errorf("flagged after the agent recovered: %+v", got)
	}
}

func TestAgentLeavingTheFleetIsNoLongerFlagged(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	fleet := []agentSpec{{"a", 10_000, 60}, {"b", 11_000, 60}, {"bad", 90_000, 60}}
	m := mustNew(t, Options{Agents: ids(fleet), Start: t0})
	run(t, m, r, 0, 3, func(int64) []agentSpec { return fleet })
	if got := m.Outliers(); len(got) != 1 || got[0].Agent != "bad" {
		t.Fatalf("outliers %+v, want bad", got)
	}
	if err := m.Expect(3, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	secs := run(t, m, r, 3, 4, func(int64) []agentSpec { return fleet[:2] })
	if len(secs) != 1 || len(secs[0].Outliers) != 0 || len(m.Outliers()) != 0 {
		t.Errorf("after bad left the fleet: %d seconds, outliers %+v", len(secs), m.Outliers())
	}
}

func TestFastAgentAndMedianStatAreJudgedToo(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	// An agent that answers far faster than the rest (it fails fast, or
	// it reaches a cache the others do not) departs as well.
	fleet := []agentSpec{{"a", 40_000, 60}, {"b", 42_000, 60}, {"fast", 4_000, 60}}
	m := mustNew(t, Options{Agents: ids(fleet), Start: t0, Outliers: OutlierOptions{Stat: P50, Seconds: 2}})
	run(t, m, r, 0, 3, func(int64) []agentSpec { return fleet })
	got := m.Outliers()
	if len(got) != 1 || got[0].Agent != "fast" || got[0].Stat != P50 || got[0].Ratio > 0.5 {
		t.Fatalf("outliers %+v, want only fast, on p50, ratio at most 1/2", got)
	}
}

func TestSteadyFleetAndQuietAgentsAreNotFlagged(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	fleet := []agentSpec{{"a", 10_000, 60}, {"b", 14_000, 60}, {"c", 8_000, 60}, {"idle", 900_000, 3}}
	m := mustNew(t, Options{Agents: ids(fleet), Start: t0})
	secs := run(t, m, r, 0, 8, func(int64) []agentSpec { return fleet })
	for _, s := range secs {
		if len(s.Outliers) != 0 {
			t.Errorf("second %d: flagged %+v in a steady fleet (idle sends %d requests, under the minimum)", s.Index, s.Outliers, 3*len(names))
		}
	}
}

func TestTwoAgentsAreNotJudged(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	fleet := []agentSpec{{"a", 10_000, 60}, {"b", 90_000, 60}}
	m := mustNew(t, Options{Agents: ids(fleet), Start: t0})
	run(t, m, r, 0, 5, func(int64) []agentSpec { return fleet })
	if got := m.Outliers(); len(got) != 0 {
		t.Errorf("with two agents nothing tells which departs, yet flagged %+v", got)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		sorted []float64
		want   float64
	}{
		{[]float64{9}, 9},
		{[]float64{1, 9}, 5},
		{[]float64{1, 2, 90}, 2},
		{[]float64{1, 2, 3, 90}, 2.5},
	} {
		if got := median(c.sorted); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.sorted, got, c.want)
		}
	}
}
