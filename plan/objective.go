package plan

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// ObjectiveKind says what an objective measures and so the unit of its
// limit.
type ObjectiveKind int

// The kinds of objective.
const (
	Latency      ObjectiveKind = iota + 1 // limit in milliseconds
	ErrorRate                             // limit as a fraction, 0.01 for 1%
	Throughput                            // limit in requests per second
	RequestCount                          // limit in requests (k6's http_reqs count)
)

// String names the kind: "latency", "error rate", "throughput", "request count".
func (k ObjectiveKind) String() string {
	switch k {
	case Latency:
		return "latency"
	case ErrorRate:
		return "error rate"
	case Throughput:
		return "throughput"
	case RequestCount:
		return "request count"
	}
	return "ObjectiveKind(" + strconv.Itoa(int(k)) + ")"
}

// Objective is one condition a run must meet, from the slo section or a
// threshold: Name Threshold, e.g. p95 < 200ms.
type Objective struct {
	Name      string        // "p95", "p(99)", "error_rate", "min_throughput", "max", "avg", "med", "throughput", "count"
	Threshold string        // as a person reads it: "< 200ms", "< 1%", ">= 50/s"
	Kind      ObjectiveKind // Latency, ErrorRate, Throughput or RequestCount
	Stat      string        // canonical: "p50", "p95", "p99", "p99.9", "max", "avg", "min", "rate", "count"
	Quantile  float64       // 50, 95, 99, 100 for max; 0 for avg, min and non-latency kinds
	Op        string        // "<", "<=", ">", ">="
	Limit     float64       // ms for latency, fraction for error rate, req/s for throughput
}

// Holds reports whether a measured value (in the unit of Limit) meets the
// objective. NaN never holds.
func (o Objective) Holds(value float64) bool {
	if math.IsNaN(value) {
		return false
	}
	switch o.Op {
	case "<":
		return value < o.Limit
	case "<=":
		return value <= o.Limit
	case ">":
		return value > o.Limit
	case ">=":
		return value >= o.Limit
	}
	return false
}

// Objectives returns everything a run must meet: the slo section first
// (p50, p95, p99, max, error_rate, min_throughput), then the thresholds in
// file order. Duplicates are kept; all must hold.
func (p *Plan) Objectives() []Objective {
	var out []Objective
	for _, l := range []struct {
		stat  string
		q     float64
		limit time.Duration
	}{{"p50", 50, p.SLO.P50}, {"p95", 95, p.SLO.P95}, {"p99", 99, p.SLO.P99}, {"max", 100, p.SLO.Max}} {
		if l.limit > 0 {
			out = append(out, latencyObjective(l.stat, l.stat, l.q, "<", millisOf(l.limit)))
		}
	}
	if p.SLO.ErrorRate != nil {
		out = append(out, rateObjective("error_rate", ErrorRate, "<", *p.SLO.ErrorRate))
	}
	if p.SLO.MinThroughput > 0 {
		out = append(out, rateObjective("min_throughput", Throughput, ">=", p.SLO.MinThroughput))
	}
	for _, t := range p.Thresholds {
		out = append(out, t.objective())
	}
	return out
}

// DefaultErrorCeiling is the error rate a run must stay under when its plan
// states no error-rate objective: a run whose requests mostly (or all)
// failed has not passed, objectives or not.
const DefaultErrorCeiling = 0.5

// RunObjectives are Objectives plus, when none of them bounds the error
// rate, "error_rate < 50%" named as the default (DefaultErrorCeiling).
func (p *Plan) RunObjectives() []Objective {
	out := p.Objectives()
	for _, o := range out {
		if o.Kind == ErrorRate {
			return out
		}
	}
	o := rateObjective("error_rate", ErrorRate, "<", DefaultErrorCeiling)
	o.Threshold += " (default)"
	return append(out, o)
}

// objective turns a parsed threshold into an Objective.
func (t Threshold) objective() Objective {
	switch t.Metric {
	case MetricFailed:
		return rateObjective("error_rate", ErrorRate, t.Op, t.Value)
	case MetricRequests:
		if t.Stat == "count" {
			o := rateObjective("count", RequestCount, t.Op, t.Value)
			o.Stat = "count"
			return o
		}
		return rateObjective("throughput", Throughput, t.Op, t.Value)
	}
	switch t.Stat {
	case "avg", "min":
		return latencyObjective(t.Stat, t.Stat, 0, t.Op, t.Value)
	case "med":
		return latencyObjective(t.Stat, "p50", 50, t.Op, t.Value)
	case "max":
		return latencyObjective(t.Stat, "max", 100, t.Op, t.Value)
	}
	q, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(t.Stat, "p("), ")"), 64)
	return latencyObjective(t.Stat, "p"+strconv.FormatFloat(q, 'f', -1, 64), q, t.Op, t.Value)
}

func latencyObjective(name, stat string, q float64, op string, ms float64) Objective {
	return Objective{
		Name: name, Kind: Latency, Stat: stat, Quantile: q, Op: op, Limit: ms,
		Threshold: op + " " + time.Duration(math.Round(ms*float64(time.Millisecond))).String(),
	}
}

func rateObjective(name string, kind ObjectiveKind, op string, limit float64) Objective {
	o := Objective{Name: name, Kind: kind, Stat: "rate", Op: op, Limit: limit}
	switch kind {
	case ErrorRate:
		o.Threshold = op + " " + shortNumber(limit*100) + "%"
	case Throughput:
		o.Threshold = op + " " + shortNumber(limit) + "/s"
	default:
		o.Threshold = op + " " + shortNumber(limit)
	}
	return o
}

// shortNumber prints v with at most 6 significant digits: 1, 0.5, 99.9.
func shortNumber(v float64) string {
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}

func millisOf(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
