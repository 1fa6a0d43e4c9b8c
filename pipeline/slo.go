package pipeline

import (
	"math"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// Evaluate checks each objective against a run: latency from the merged
// overall histogram, error rate as errors/requests, throughput as
// requests over the run's duration. With no requests nothing holds.
func Evaluate(objs []plan.Objective, res *generator.Result) []SLOResult {
	out := make([]SLOResult, 0, len(objs))
	for _, c := range plan.CheckAll(objs, res.Measurement()) {
		r := SLOResult{Name: c.Objective.Name, Threshold: c.Objective.Threshold, Unit: c.Objective.Unit(), Pass: c.Pass}
		if math.IsNaN(c.Value) {
			r.Note = "no requests were measured"
		} else {
			r.Value = c.Value
		}
		out = append(out, r)
	}
	return out
}

// AllPass reports whether every objective held (true for none).
func AllPass(rs []SLOResult) bool {
	for _, r := range rs {
		if !r.Pass {
			return false
		}
	}
	return true
}
