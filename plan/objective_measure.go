package plan

import (
	"fmt"
	"math"
	"strconv"
)

// Measurement is what a run, a step or one second measured, in the units
// of objectives' limits: the one input every objective is checked
// against, whichever part of Headroom checks it.
type Measurement struct {
	Requests int64   // completed, errors included
	Errors   int64   // requests that failed
	Seconds  float64 // length of time the rates are over; 0: no rate
	// Latency returns a latency statistic in ms: the percentile q (0–100;
	// 100 is the maximum) for stat "p…", or stat "avg", "min", "max". NaN
	// (or a nil Latency) means no latency was measured.
	Latency func(stat string, q float64) float64
}

// Value is the objective's statistic over m in the unit of its Limit (ms,
// a fraction, requests per second or requests); NaN when m holds nothing
// to compute it from (no requests, or no duration for a rate).
func (o Objective) Value(m Measurement) float64 {
	switch o.Kind {
	case Latency:
		if m.Requests <= 0 || m.Latency == nil {
			return math.NaN()
		}
		switch {
		case o.Stat == "avg", o.Stat == "min":
			return m.Latency(o.Stat, 0)
		case o.Quantile >= 100:
			return m.Latency("max", 100)
		}
		return m.Latency(o.Stat, o.Quantile)
	case ErrorRate:
		if m.Requests <= 0 {
			return math.NaN()
		}
		return float64(m.Errors) / float64(m.Requests)
	case Throughput:
		if m.Seconds <= 0 {
			return math.NaN()
		}
		return float64(m.Requests) / m.Seconds
	case RequestCount:
		return float64(m.Requests)
	}
	return math.NaN()
}

// Check is one objective checked against a measurement.
type Check struct {
	Objective Objective
	Value     float64 // in Unit; NaN when nothing was measured
	Pass      bool
}

// CheckAll checks every objective against m, in order.
func CheckAll(objs []Objective, m Measurement) []Check {
	out := make([]Check, 0, len(objs))
	for _, o := range objs {
		v := o.Value(m)
		out = append(out, Check{Objective: o, Value: v, Pass: o.Holds(v)})
	}
	return out
}

// Unit names the unit of the objective's limit and values: "ms", "ratio",
// "req/s" or "requests".
func (o Objective) Unit() string {
	switch o.Kind {
	case Latency:
		return "ms"
	case ErrorRate:
		return "ratio"
	case Throughput:
		return "req/s"
	}
	return "requests"
}

// Format renders a value in the objective's unit as a person reads it:
// "412.0ms", "1.25%", "48.3/s", "1200".
func (o Objective) Format(v float64) string {
	if math.IsNaN(v) {
		return "nothing"
	}
	switch o.Kind {
	case Latency:
		return fmt.Sprintf("%.1fms", v)
	case ErrorRate:
		return fmt.Sprintf("%.2f%%", v*100)
	case Throughput:
		return fmt.Sprintf("%.1f/s", v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
