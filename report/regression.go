package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/headroom-sre/headroom/compare"
	"github.com/headroom-sre/headroom/pipeline"
)

// regression compares the document with its baseline.
func regression(base, cur pipeline.Artifact, o Options) (*regressionView, error) {
	res, err := compare.Artifacts(base, cur, compare.Options{MaxRegression: o.MaxRegression, Alpha: o.Alpha})
	if err != nil {
		return nil, err
	}
	return newRegression(res, base), nil
}

// newRegression is the regression section of a comparison's result.
func newRegression(res compare.Result, base pipeline.Artifact) *regressionView {
	r := &regressionView{Verdict: string(res.Verdict), Failed: res.Verdict == compare.Regression,
		MaxRegression: res.MaxRegression, Alpha: res.Alpha, Reasons: res.Reasons, Baseline: describeBaseline(base),
		Rule: res.Rule, Tests: res.Tests}
	for _, n := range res.Names {
		retest := false
		for _, d := range n.Deltas {
			row := newDeltaRow(n.Name, d)
			r.Rows = append(r.Rows, row)
			if d.Regressed && d.Metric != compare.P50 {
				retest = true
			}
		}
		if n.Name == "all" {
			continue
		}
		if retest {
			r.Retest = append(r.Retest, n.Name)
		} else {
			r.Safe = append(r.Safe, n.Name)
		}
	}
	if res.Capacity != nil {
		row := newDeltaRow("single instance", *res.Capacity)
		r.Capacity = &row
	}
	return r
}

func newDeltaRow(name string, d compare.Delta) deltaRow {
	return deltaRow{Name: name, Metric: string(d.Metric), Base: metricValue(d.Metric, d.Base), Current: metricValue(d.Metric, d.Current),
		Change: signedPct(d.ChangePct, d.Base), PValue: pCell(d), Tested: d.PValue != nil,
		Significant: d.Significant, Regressed: d.Regressed, Improve: d.Improved}
}

// metricValue writes a compared figure in its unit.
func metricValue(m compare.Metric, v float64) string {
	switch m {
	case compare.P50, compare.P95, compare.P99:
		return fmtMs(v)
	case compare.ErrorRate:
		return fmtPct(v)
	}
	return fmtRPS(v)
}

func signedPct(pct, base float64) string {
	if base == 0 {
		return "—"
	}
	s := strconv.FormatFloat(math.Round(pct*10)/10, 'f', -1, 64) + "%"
	if pct > 0 {
		s = "+" + s
	}
	return s
}

// pCell is what a report shows for a delta's test: the rank test's p and
// its Holm–Bonferroni adjusted p, or that no test ran.
func pCell(d compare.Delta) string {
	if d.PValue == nil {
		return "— (bracket comparison, no test)"
	}
	s := pValue(*d.PValue)
	if d.PAdjusted != nil {
		s += " (Holm " + pValue(*d.PAdjusted) + ")"
	}
	return s
}

func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.0001:
		return "<0.0001"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

func describeBaseline(a pipeline.Artifact) string {
	switch {
	case a.Kind == pipeline.KindRun && a.Run != nil && a.Run.Result != nil:
		return fmt.Sprintf("the run of %s on %s", name(a.Run.Plan), fmtTime(a.Run.Start))
	case a.Kind == pipeline.KindStudy && a.Study != nil && a.Study.Study != nil:
		return fmt.Sprintf("the study of %s on %s", name(a.Study.Plan), fmtTime(a.Study.Started))
	}
	return "the baseline"
}
