package capacity

import (
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// The objectives are the plan's own (plan.Objective), checked by the one
// evaluator every part of Headroom uses: plan.Objective.Value over a
// plan.Measurement, then Holds. This file only adapts a step's Summary
// and a second's Tick to a Measurement and says which objectives a
// capacity study can judge by.

// objectivesOf lists the objectives of p (its slo section and its
// k6-style thresholds) that a step or a capacity can be judged by. Left
// out: a latency minimum (the fastest request says nothing about
// capacity) and request counts (they depend on the run's length).
// Throughput objectives stay in the list: the study checks its capacity
// against them (checkRequired); the judge leaves them out of every step.
func objectivesOf(p *plan.Plan) []plan.Objective {
	var out []plan.Objective
	for _, o := range p.Objectives() {
		switch {
		case o.Kind == plan.Latency && o.Stat == "min":
			continue
		case o.Kind == plan.RequestCount:
			continue
		}
		out = append(out, o)
	}
	return out
}

// perStep keeps the objectives a step or one second is judged by: every
// one a single second can show (latency and error rate). Throughput
// objectives are left out: a step's rate is the rate the search offered,
// and a recovery rate is lower by design, so neither says whether the
// system meets them.
func perStep(objs []plan.Objective) []plan.Objective {
	var out []plan.Objective
	for _, o := range objs {
		if o.Kind == plan.Latency || o.Kind == plan.ErrorRate {
			out = append(out, o)
		}
	}
	return out
}

// measurementOf is a step's measured part as the evaluator reads it:
// latency from the merged histogram when the Summary has one (the
// nearest stored quantile at or above otherwise), max and mean from the
// step's statistics. With no requests every objective reads NaN and so
// does not hold; the judge says "no request completed" before that.
func measurementOf(s Summary) plan.Measurement {
	return plan.Measurement{
		Requests: s.Requests,
		Errors:   s.Errors,
		Seconds:  s.Seconds,
		Latency: func(stat string, q float64) float64 {
			switch stat {
			case "avg":
				return s.Latency.Mean
			case "max":
				return s.Latency.Max
			}
			return s.quantile(q / 100)
		},
	}
}

// tickMeasurement is one second as the evaluator reads it: latency from
// the second's stored quantiles (the nearest at or above the one asked).
// A second with no request completed reads NaN for every objective; the
// judge decides what such a second means (never back within the SLOs;
// clearly bad only while iterations are offered and in flight).
func tickMeasurement(t Tick) plan.Measurement {
	return plan.Measurement{
		Requests: t.Requests,
		Errors:   t.Errors,
		Seconds:  1,
		Latency: func(stat string, q float64) float64 {
			switch stat {
			case "avg":
				return t.Latency.Mean
			case "max":
				return t.Latency.Max
			}
			return t.Latency.atLeast(q / 100)
		},
	}
}

// label names an objective as the plan says it: "p99 < 400ms".
func label(o plan.Objective) string { return o.Name + " " + o.Threshold }

// hasKind reports whether any objective is of kind k.
func hasKind(objs []plan.Objective, k plan.ObjectiveKind) bool {
	for _, o := range objs {
		if o.Kind == k {
			return true
		}
	}
	return false
}

// missed says how a value broke an objective: "p99 < 400ms: measured
// 512.0ms, limit < 400.0ms".
func missed(o plan.Objective, v float64) string {
	return fmt.Sprintf("%s: measured %s, limit %s %s", label(o), o.Format(v), o.Op, o.Format(o.Limit))
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
