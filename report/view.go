package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/plan"
)

// view is a report's content, independent of the format it is written in.
type view struct {
	Kind        string
	Title       string
	PlanName    string
	Target      string
	Environment string
	Started     time.Time
	Finished    time.Time
	Outcome     string

	Ready      bool
	Verdict    string // "Ready" or "Not ready"
	Sentence   string // the one a product owner needs
	Paragraph  string // the summary in plain words
	Checks     []check
	Requests   []nameRow // per request name
	RequestsAt string    // what span they cover

	Plan   *planView
	Charts []chart

	Findings     []correlate.Finding
	Window       *correlate.Window
	NotAvailable []string
	Profiles     string // where the job's pprof profiles are ("" = none kept)

	Steps      []capacity.Step // a study's steps, for the step table
	Arithmetic []section

	Regression *regressionView
	GateChecks []check // every regression check, for JUnit
	Notes      []string
}

// status is how one check came out.
type status string

const (
	statusPass status = "pass"
	statusFail status = "fail"
	statusWarn status = "warn" // holds, with something to look at
	statusInfo status = "info" // a figure, no objective
)

// check is one row of the verdict table and one JUnit test case.
type check struct {
	Group     string // "slo", "capacity", "regression"
	Name      string
	Threshold string
	Measured  string
	Status    status
	Note      string
	Change    string // regression checks: the relative change
	Why       string // a failed check's cause, for the verdict sentence ("" = none known)
}

// Failed reports whether the check failed.
func (c check) Failed() bool { return c.Status == statusFail }

// section is a titled list of re-derivable statements.
type section struct {
	Title string
	Lines []string
}

// regressionView is the comparison with a baseline.
type regressionView struct {
	Verdict       string // no_regression, regression, improvement
	Failed        bool   // the gate fails
	MaxRegression float64
	Alpha         float64
	Rule          string // how significance was decided (compare.Rule)
	Tests         int    // rank tests in the Holm–Bonferroni family
	Reasons       []string
	Rows          []deltaRow
	Capacity      *deltaRow
	Safe, Retest  []string // request names
	Baseline      string   // what the baseline is: kind, plan, start
}

// deltaRow is one metric of one request name, base vs current.
type deltaRow struct {
	Name, Metric       string
	Base, Current      string
	Change             string
	PValue             string // p (Holm-adjusted p), or that no test ran
	Tested             bool   // a rank test ran (not the capacity's bracket comparison)
	Significant        bool
	Regressed, Improve bool
}

// Call is the significance call in words.
func (d deltaRow) Call() string {
	switch {
	case d.Regressed:
		return "regressed"
	case d.Improve:
		return "improved"
	case d.Significant:
		return "changed, within the limit"
	}
	return "no significant change"
}

// build turns a source into a view.
func build(s *source, reg *regressionView) *view {
	v := &view{Kind: s.kind, Outcome: s.outcome, Regression: reg, PlanName: s.planRef}
	var slo plan.SLO
	if s.plan != nil {
		v.PlanName = s.plan.Name
		v.Target, v.Environment = s.plan.Target.BaseURL, s.plan.Target.Environment
		v.Plan = newPlanView(s.plan)
		if s.kind == kindRun { // a run uses neither
			v.Plan.Capacity, v.Plan.Business = nil, nil
		}
		slo = s.plan.SLO
	}
	if s.corr != nil {
		if s.corr.Window.Found {
			w := s.corr.Window
			v.Window = &w
		}
		v.NotAvailable = s.corr.NotAvailable
		v.Notes = append(v.Notes, s.corr.Notes...)
	}
	v.Findings = s.findings
	switch s.kind {
	case kindStudy:
		st := s.study
		v.Title = "Capacity study"
		if st.URL != "" {
			v.Target = st.URL
		}
		if v.PlanName == "" {
			v.PlanName = st.Plan
		}
		v.Started, v.Finished = st.Started, st.Finished
		v.Steps = append(append([]capacity.Step(nil), st.Steps...), st.Prediction.Steps...)
		v.Checks = studyChecks(s)
		v.Arithmetic = studyArithmetic(s)
		v.Charts = append(timeCharts(s, slo), studyCharts(st, slo)...)
		v.Notes = append(append([]string(nil), st.Notes...), v.Notes...)
	default:
		r := s.run
		v.Title = "Load test"
		v.Started, v.Finished = r.Start, r.End
		v.Checks = runChecks(s)
		v.Arithmetic = runArithmetic(s)
		v.Charts = timeCharts(s, slo)
	}
	v.addLoop(s.loop)
	v.Requests, v.RequestsAt = requestRows(s)
	if reg != nil {
		v.GateChecks = regressionChecks(reg)
		gate := check{Group: "gate", Name: "regression against the baseline", Status: statusPass,
			Threshold: fmt.Sprintf("no significant regression over %s", fmtPct(reg.MaxRegression)),
			Measured:  strings.ReplaceAll(reg.Verdict, "_", " ")}
		if reg.Failed {
			gate.Status = statusFail
		}
		v.Checks = append(v.Checks, gate)
		for _, c := range v.GateChecks {
			if c.Failed() {
				v.Checks = append(v.Checks, c)
			}
		}
	}
	v.Ready = ready(s, v.Checks)
	v.Verdict = "Not ready"
	if v.Ready {
		v.Verdict = "Ready"
	}
	v.Sentence = sentence(s, v)
	v.Paragraph = paragraph(s, v)
	if v.PlanName != "" {
		v.Title += ": " + v.PlanName
	}
	return v
}

// ready is the verdict: the document finished, no check failed.
func ready(s *source, checks []check) bool {
	switch s.outcome {
	case "aborted", "cancelled", "failed":
		return false
	}
	if s.kind == kindStudy && (s.study.Capacity.SingleInstanceRPS <= 0 || !s.study.Complete) {
		return false
	}
	if s.kind == kindRun && s.run.Aborted != "" {
		return false
	}
	for _, c := range checks {
		if c.Failed() {
			return false
		}
	}
	return true
}
