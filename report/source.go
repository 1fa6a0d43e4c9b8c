package report

import (
	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// source is what one report is built from, whichever document it came
// from: a run (with its SLO results) or a study (with every second of
// every step), plus the findings and the plan when known.
type source struct {
	kind     string // "run" or "study"
	outcome  string // passed, failed, aborted, cancelled
	planRef  string // the plan's name or path as the document gives it
	plan     *plan.Plan
	run      *generator.Result
	slo      []sloRow
	study    *capacity.Study
	windows  []window
	findings []correlate.Finding
	corr     *correlate.Report
	loop     loop // soak, spike, assess (loop.go)
}

// window is one second of a run or of a study's step.
type window struct {
	Phase string
	Step  int // 1-based step of a study; 0 for a run
	generator.SecondRecord
}

// sloRow is one objective checked against a run.
type sloRow struct {
	Name, Threshold string
	Value           float64
	Unit            string
	Pass            bool
	Note            string
}

const (
	kindRun   = "run"
	kindStudy = "study"
)
