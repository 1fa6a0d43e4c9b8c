package capacity

import (
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// objectiveKind says what an objective measures.
type objectiveKind int

const (
	latencyObjective    objectiveKind = iota // ms
	errorObjective                           // fraction of requests
	throughputObjective                      // requests per second
)

// objective is one SLO or threshold of a plan, in the form the judge
// needs: a statistic of a step compared with a limit.
type objective struct {
	name     string // as the plan says it: "slo.p99", "p(99)<400ms"
	kind     objectiveKind
	stat     string  // latency: "quantile", "mean" or "max"
	quantile float64 // latency "quantile": 0.99 for p99
	op       string  // "<", "<=", ">", ">="
	limit    float64 // ms, fraction or requests/s
}

// objectivesOf lists the objectives of p (its slo section and its
// k6-style thresholds) that a step or a capacity can be judged by.
func objectivesOf(p *plan.Plan) []objective {
	var out []objective
	for _, po := range p.Objectives() {
		o := objective{name: po.Name + " " + po.Threshold, op: po.Op, limit: po.Limit}
		switch po.Kind {
		case plan.Latency:
			o.kind = latencyObjective
			switch {
			case po.Stat == "avg":
				o.stat = "mean"
			case po.Stat == "min":
				continue // the fastest request says nothing about capacity
			case po.Quantile >= 100:
				o.stat, o.quantile = "max", 1
			default:
				o.stat, o.quantile = "quantile", po.Quantile/100
			}
		case plan.ErrorRate:
			o.kind = errorObjective
		case plan.Throughput:
			o.kind = throughputObjective
		default:
			continue // request counts depend on the run's length, not on capacity
		}
		out = append(out, o)
	}
	return out
}

// holds reports whether v meets the objective, by the plan's own rule.
func (o objective) holds(v float64) bool {
	return plan.Objective{Op: o.op, Limit: o.limit}.Holds(v)
}

// ofSummary is the objective's statistic over a step.
func (o objective) ofSummary(s Summary) float64 {
	switch o.kind {
	case errorObjective:
		return s.ErrorRate()
	case throughputObjective:
		return s.Throughput
	}
	switch o.stat {
	case "mean":
		return s.Latency.Mean
	case "max":
		return s.Latency.Max
	}
	return s.quantile(o.quantile)
}

// ofTick is the objective's statistic over one second.
func (o objective) ofTick(t Tick) float64 {
	switch o.kind {
	case errorObjective:
		return t.ErrorRate()
	case throughputObjective:
		return float64(t.Requests)
	}
	switch o.stat {
	case "mean":
		return t.Latency.Mean
	case "max":
		return t.Latency.Max
	}
	return t.Latency.atLeast(o.quantile)
}

// format renders a value in the objective's unit.
func (o objective) format(v float64) string {
	switch o.kind {
	case errorObjective:
		return fmt.Sprintf("%.2f%%", v*100)
	case throughputObjective:
		return fmt.Sprintf("%.1f/s", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// hasKind reports whether any objective is of kind k.
func hasKind(objs []objective, k objectiveKind) bool {
	for _, o := range objs {
		if o.kind == k {
			return true
		}
	}
	return false
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
