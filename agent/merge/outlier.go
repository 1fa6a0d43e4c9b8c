package merge

import (
	"fmt"
	"math"
	"sort"
)

// Stat is the latency statistic an outlier is judged on.
type Stat string

// The statistics an agent can be compared with the fleet on.
const (
	P99 Stat = "p99"
	P50 Stat = "p50"
)

// OutlierOptions set when an agent is flagged as departing from the fleet
// (a noisy neighbour on its host, or a bad agent). An agent is flagged
// when, for Seconds consecutive seconds, its Stat is Factor times above,
// or 1/Factor below, the median of the same statistic over the other
// agents; only agents with at least MinRequests in the second count, and
// at least two such agents must be present. It is unflagged after
// Seconds consecutive seconds within the factor.
type OutlierOptions struct {
	Stat        Stat    // zero means P99
	Factor      float64 // zero means 2; must be above 1
	Seconds     int     // zero means 3
	MinRequests int64   // zero means 20
}

// Outlier is one agent flagged as departing from the fleet, with the
// figures that flagged it.
type Outlier struct {
	Agent   string  `json:"agent"`
	Stat    Stat    `json:"stat"`     // the statistic compared
	AgentMs float64 `json:"agent_ms"` // the agent's value at the latest second
	FleetMs float64 `json:"fleet_ms"` // the median of the other agents' values at that second
	Ratio   float64 `json:"ratio"`    // AgentMs / FleetMs
	Since   int64   `json:"since"`    // the first second of the run of departing seconds
	Seconds int     `json:"seconds"`  // how many consecutive seconds it has departed
}

func (o OutlierOptions) withDefaults() (OutlierOptions, error) {
	switch o.Stat {
	case "":
		o.Stat = P99
	case P99, P50:
	default:
		return o, fmt.Errorf("merge: outliers.stat: %q is neither %q nor %q", o.Stat, P99, P50)
	}
	switch {
	case o.Factor == 0:
		o.Factor = 2
	case !(o.Factor > 1) || math.IsInf(o.Factor, 0):
		return o, fmt.Errorf("merge: outliers.factor: %v must be above 1", o.Factor)
	}
	switch {
	case o.Seconds == 0:
		o.Seconds = 3
	case o.Seconds < 0:
		return o, fmt.Errorf("merge: outliers.seconds: %d is negative", o.Seconds)
	}
	switch {
	case o.MinRequests == 0:
		o.MinRequests = 20
	case o.MinRequests < 0:
		return o, fmt.Errorf("merge: outliers.min_requests: %d is negative", o.MinRequests)
	}
	return o, nil
}

// outliers follows every agent's departure from the rest of the fleet,
// second by second; the Merger's emission owns it.
type outliers struct {
	opts   OutlierOptions
	tracks map[string]*track
}

// track is one agent's recent history against the fleet.
type track struct {
	depart  int     // consecutive departing seconds
	calm    int     // consecutive seconds within the factor
	since   int64   // first second of the current departing run
	flagged bool    // flagged now
	last    Outlier // figures of the latest departing second
}

func newOutliers(o OutlierOptions) outliers {
	return outliers{opts: o, tracks: map[string]*track{}}
}

// judge compares each agent of second s with the median of the others and
// returns the agents flagged after it, sorted by id. An agent with too few
// requests, or absent, keeps its history unchanged.
func (o *outliers) judge(s int64, per []AgentSecond) []Outlier {
	type value struct {
		agent string
		ms    float64
	}
	var vs []value
	for _, a := range per {
		if a.Window.Total.Requests < o.opts.MinRequests || a.Latency.Max == 0 {
			continue
		}
		v := a.Latency.P99
		if o.opts.Stat == P50 {
			v = a.Latency.P50
		}
		vs = append(vs, value{a.Window.Agent, v})
	}
	if len(vs) >= 2 {
		sorted := make([]float64, len(vs))
		for i, v := range vs {
			sorted[i] = v.ms
		}
		sort.Float64s(sorted)
		for _, v := range vs {
			o.step(s, v.agent, v.ms, medianWithout(sorted, v.ms))
		}
	}
	return o.flagged()
}

// step records one second of one agent: its value against the fleet's.
func (o *outliers) step(s int64, agent string, ms, fleet float64) {
	t := o.tracks[agent]
	if t == nil {
		t = &track{}
		o.tracks[agent] = t
	}
	ratio := math.Inf(1)
	if fleet > 0 {
		ratio = ms / fleet
	}
	if ratio >= o.opts.Factor || ratio <= 1/o.opts.Factor {
		if t.depart == 0 {
			t.since = s
		}
		t.depart++
		t.calm = 0
		t.last = Outlier{Agent: agent, Stat: o.opts.Stat, AgentMs: ms, FleetMs: fleet, Ratio: ratio, Since: t.since, Seconds: t.depart}
		if t.depart >= o.opts.Seconds {
			t.flagged = true
		}
		return
	}
	t.depart = 0
	t.calm++
	if t.calm >= o.opts.Seconds {
		t.flagged = false
	}
}

// flagged lists the agents flagged now, sorted by id.
func (o *outliers) flagged() []Outlier {
	var out []Outlier
	for _, t := range o.tracks {
		if t.flagged {
			out = append(out, t.last)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out
}

// medianWithout is the median of sorted with one occurrence of x left out;
// sorted holds x and at least one other value.
func medianWithout(sorted []float64, x float64) float64 {
	skip := sort.SearchFloat64s(sorted, x)
	at := func(k int) float64 { // k-th of the values left
		if k >= skip {
			k++
		}
		return sorted[k]
	}
	n := len(sorted) - 1
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}
