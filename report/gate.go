package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/headroom-sre/headroom/compare"
	"github.com/headroom-sre/headroom/pipeline"
)

// DefaultMaxRegression is the gate's default minimum effect: 10%.
const DefaultMaxRegression = 0.10

// Gate compares current with baseline as `--baseline FILE
// --max-regression 10%` does: it fails when a p95, p99, throughput or
// error rate (and, for studies, the single-instance capacity) regressed
// by more than maxRegression with significance. Reasons say what
// regressed; the report of current with the same baseline states the
// same verdict.
func Gate(baseline, current pipeline.Artifact, maxRegression float64) (failed bool, res compare.Result, err error) {
	res, err = compare.Artifacts(baseline, current, compare.Options{MaxRegression: maxRegression})
	if err != nil {
		return false, res, fmt.Errorf("gate: %w", err)
	}
	return res.Verdict == compare.Regression, res, nil
}

// ParseRegression reads a --max-regression value: "10%", "0.1" or "10"
// (a number above 1 is a percentage).
func ParseRegression(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("max regression %q: want a positive percentage such as 10%%", s)
	}
	if pct || v > 1 {
		v /= 100
	}
	if v >= 10 {
		return 0, fmt.Errorf("max regression %q: above 1000%%", s)
	}
	return v, nil
}
