package report

import (
	"fmt"
	"strings"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// scalingTolerance is how far the measured N-instance capacity may be
// from the prediction before the report warns (as the capacity package
// calls it a finding).
const scalingTolerance = 0.15

// runChecks are a run's objectives as checked, and an abort.
func runChecks(s *source) []check {
	var out []check
	for _, r := range s.slo {
		c := check{Group: "slo", Name: r.Name, Threshold: r.Threshold, Measured: sloValue(r.Value, r.Unit), Status: statusPass, Note: r.Note}
		if !r.Pass {
			c.Status = statusFail
		}
		out = append(out, c)
	}
	if s.run.Aborted != "" {
		out = append(out, check{Group: "run", Name: "abort rules", Threshold: "no abort", Measured: s.run.Aborted, Status: statusFail})
	}
	return out
}

func sloValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmtMs(v)
	case "ratio":
		return fmtPct(v)
	case "req/s", "rps", "/s":
		return fmtRPS(v)
	case "":
		return fmtFloat(v)
	}
	return fmtFloat(v) + " " + unit
}

// capacityStep is the step the single-instance capacity was measured at:
// the acceptable one at the capacity's rate, or nil.
func capacityStep(st *capacity.Study) *capacity.Step {
	var best *capacity.Step
	for i := range st.Steps {
		s := &st.Steps[i]
		if s.Verdict == capacity.Acceptable && (best == nil || s.Rate > best.Rate) {
			best = s
		}
	}
	return best
}

// unacceptableStep is the lowest unacceptable step of the search, or nil.
func unacceptableStep(st *capacity.Study) *capacity.Step {
	var low *capacity.Step
	for i := range st.Steps {
		s := &st.Steps[i]
		if s.Verdict == capacity.Unacceptable && (low == nil || s.Rate < low.Rate) {
			low = s
		}
	}
	return low
}

// studyChecks are the objectives at the capacity step, the capacity
// requirement, the N-instance verification, stress recovery and the
// recommendation's figures.
func studyChecks(s *source) []check {
	st := s.study
	var out []check
	at := capacityStep(st)
	where := "at capacity"
	if at == nil && len(st.Steps) > 0 {
		at, where = &st.Steps[0], "at the baseline step"
	}
	if s.plan != nil && at != nil {
		for _, o := range s.plan.Objectives() {
			if o.Kind == plan.RequestCount {
				continue
			}
			v, ok := stepValue(s, *at, o)
			c := check{Group: "slo", Name: o.Name, Threshold: o.Threshold, Status: statusPass,
				Note: fmt.Sprintf("%s: step %d at %s it/s, measured %s", where, at.Index, fmtFloat(at.Rate), fmtRPS(at.Throughput))}
			if !ok {
				c.Measured, c.Status = "not measured", statusInfo
			} else {
				c.Measured = objectiveValue(o, v)
				if !o.Holds(v) {
					c.Status = statusFail
				}
			}
			out = append(out, c)
		}
	}
	b := st.Capacity
	single := check{Group: "capacity", Name: "single-instance capacity", Measured: fmtRPS(b.SingleInstanceRPS), Status: statusInfo}
	if b.AtLeast {
		single.Measured = "≥ " + single.Measured
		single.Note = "a lower bound: limited by " + string(b.LimitedBy)
	}
	if b.RequiredMet != nil {
		single.Threshold = "≥ " + fmtRPS(b.RequiredRPS) + " (capacity.required_rps)"
		single.Status = statusPass
		if !*b.RequiredMet {
			single.Status = statusFail
		}
	} else if b.SingleInstanceRPS <= 0 {
		single.Status, single.Threshold = statusFail, "> 0 req/s"
		single.Note = "no step met the objectives"
	}
	out = append(out, single)
	if u := unacceptableStep(st); u != nil {
		out = append(out, check{Group: "capacity", Name: "first unacceptable load", Measured: fmtRPS(b.UnacceptableRPS),
			Status: statusInfo, Note: fmt.Sprintf("step %d: %s", u.Index, strings.Join(u.Reasons, "; "))})
	}
	if pr := st.Prediction; pr.Instances > 0 {
		c := check{Group: "capacity", Name: fmt.Sprintf("%d-instance capacity", pr.Instances),
			Threshold: "predicted " + fmtRPS(pr.PredictedRPS), Status: statusInfo, Note: "not verified (no capacity.verify_url)"}
		if pr.MeasuredRPS != nil && pr.Ratio != nil {
			c.Measured = fmt.Sprintf("%s measured (ratio %.2f)", fmtRPS(*pr.MeasuredRPS), *pr.Ratio)
			c.Threshold = fmt.Sprintf("≥ %.0f%% of %s predicted", 100*(1-scalingTolerance), fmtRPS(pr.PredictedRPS))
			c.Status, c.Note = statusPass, fmt.Sprintf("within ±%.0f%% of the prediction", 100*scalingTolerance)
			switch r := *pr.Ratio; {
			case r < 1-scalingTolerance && pr.AtLeast:
				c.Status, c.Note = statusWarn, "the verification stopped before the prediction: the measured figure is a lower bound"
			case r < 1-scalingTolerance:
				c.Status = statusFail
				c.Note, c.Why = subLinearNote(s.findings)
			case r > 1+scalingTolerance:
				c.Status, c.Note = statusWarn, "super-linear scaling: the single-instance figure was likely pessimistic"
			}
		} else {
			c.Measured = "—"
		}
		out = append(out, c)
	}
	if r := st.Stress; r.Skipped == "" && r.Rate > 0 {
		c := check{Group: "capacity", Name: "recovery after stress", Threshold: r.Criterion, Status: statusPass}
		if r.Recovered && r.RecoveryS != nil {
			c.Measured = fmt.Sprintf("%d s after the surge at %s it/s", *r.RecoveryS, fmtFloat(r.Rate))
		} else {
			// A system that does not come back after a surge is not ready.
			c.Measured, c.Status = fmt.Sprintf("not recovered within %s s", fmtFloat(r.WindowS)), statusFail
			c.Note = "the SUT did not recover from the stress surge: not ready"
		}
		out = append(out, c)
	}
	if rec := st.Recommendation; rec.AutoscaleRPS > 0 {
		c := check{Group: "capacity", Name: "autoscaling threshold", Measured: fmtRPS(rec.AutoscaleRPS) + " per instance",
			Threshold: fmt.Sprintf("%s of %s", fmtPct(rec.AutoscaleAt), fmtRPS(rec.BasisRPS)), Status: statusInfo}
		if rec.CPU != nil {
			cores := "one core"
			if rec.CPUCores > 0 {
				cores = fmtFloat(rec.CPUCores) + " cores"
			}
			c.Note = fmt.Sprintf("CPU there: %s of %s", fmtPct(*rec.CPU), cores)
		}
		out = append(out, c)
		if rec.SustainedRPS > 0 || rec.MinInstances > 0 {
			out = append(out, check{Group: "capacity", Name: "instances", Status: statusInfo,
				Measured:  fmt.Sprintf("min %d, max %d", rec.MinInstances, rec.MaxInstances),
				Threshold: fmt.Sprintf("sustained %s, peak %s", fmtRPS(rec.SustainedRPS), fmtRPS(rec.PeakRPS))})
		}
	}
	return out
}

// genericSubLinear is the note of a fleet that fell short when the study
// has no scaling finding that names why.
const genericSubLinear = "sub-linear scaling: the instances share something (database, cache, balancer, cores); the instance counts assume linear scaling"

// subLinearNote is the note of the N-instance check when the fleet fell
// short, and why it did in a few words for the verdict sentence: the
// cause the study's scaling finding names, with its figures, or the
// generic sentence (and no why) when it names none.
func subLinearNote(findings []correlate.Finding) (note, why string) {
	r, ok := correlate.ScalingReasonOf(findings)
	switch {
	case !ok:
		return genericSubLinear, ""
	case !r.Explained:
		note = genericSubLinear
		if r.Statement != "" {
			note += "; the scaling finding names no cause: " + strings.TrimSuffix(r.Statement, " (see below)")
		}
		return note + fmt.Sprintf(" (finding %d)", r.Rank), ""
	}
	return fmt.Sprintf("sub-linear scaling: %s (finding %d)", r.Statement, r.Rank), r.Statement
}

// stepValue is the value of objective o at a step: latency from the
// step's merged histogram (or the step's windows merged for other
// quantiles), the error rate and the throughput.
func stepValue(s *source, st capacity.Step, o plan.Objective) (float64, bool) {
	switch o.Kind {
	case plan.ErrorRate:
		return st.ErrorRate, true
	case plan.Throughput:
		return st.Throughput, true
	case plan.Latency:
		switch o.Stat {
		case "p50":
			return st.Latency.P50, true
		case "p90":
			return st.Latency.P90, true
		case "p95":
			return st.Latency.P95, true
		case "p99":
			return st.Latency.P99, true
		case "max":
			return st.Latency.Max, true
		case "avg":
			return st.Latency.Mean, true
		}
		if o.Quantile > 0 {
			return mergedQuantile(s.windowsOfStep(st), o.Quantile)
		}
	}
	return 0, false
}

// windowsOfStep are the measured seconds of one study step (its warm-up
// left out, as in the step's own figures).
func (s *source) windowsOfStep(st capacity.Step) []generator.SecondRecord {
	var out []generator.SecondRecord
	for _, w := range s.windows {
		measured := st.Start.IsZero() || (!w.Start.Before(st.Start) && w.Start.Before(st.End))
		if w.Step == st.Index && phaseGroup(w.Phase) == phaseGroup(string(st.Phase)) && measured {
			out = append(out, w.SecondRecord)
		}
	}
	return out
}

// mergedQuantile merges the windows' histograms and reads quantile q (in
// percent), in milliseconds.
func mergedQuantile(ws []generator.SecondRecord, q float64) (float64, bool) {
	h := generator.NewHistogram()
	for _, w := range ws {
		wh, err := w.Histogram()
		if err != nil {
			return 0, false
		}
		h.Merge(wh)
	}
	if h.TotalCount() == 0 {
		return 0, false
	}
	return float64(h.ValueAtQuantile(q)) / 1000, true
}

func objectiveValue(o plan.Objective, v float64) string {
	switch o.Kind {
	case plan.Latency:
		return fmtMs(v)
	case plan.ErrorRate:
		return fmtPct(v)
	case plan.Throughput:
		return fmtRPS(v)
	}
	return fmtFloat(v)
}

// regressionChecks are the gate's checks: one per compared metric of
// every request name (every one decides the verdict), and the capacity.
func regressionChecks(r *regressionView) []check {
	var out []check
	add := func(d deltaRow) {
		who := d.Name
		if who == "all" {
			who = "all requests"
		}
		c := check{Group: "regression", Name: who + " " + d.Metric,
			Threshold: fmt.Sprintf("no significant regression over %s", fmtPct(r.MaxRegression)),
			Measured:  d.Base + " → " + d.Current, Change: d.Change,
			Status: statusPass, Note: fmt.Sprintf("%s, p %s: %s", d.Change, pText(d.PValue), d.Call())}
		if !d.Tested {
			c.Note = fmt.Sprintf("%s, bracket comparison (no statistical test): %s", d.Change, d.Call())
		}
		if d.Regressed {
			c.Status = statusFail
		}
		out = append(out, c)
	}
	for _, d := range r.Rows {
		add(d)
	}
	if r.Capacity != nil {
		add(*r.Capacity)
	}
	return out
}

// sentence is the one line a product owner needs.
func sentence(s *source, v *view) string {
	var why []string
	for _, c := range v.Checks {
		if f := failure(c); c.Failed() && f != "" {
			why = append(why, f)
		}
	}
	if s.kind == kindRun {
		if s.run.Aborted != "" {
			why = append([]string{"the run was stopped by an abort rule (" + s.run.Aborted + ")"}, why...)
		}
		if v.Ready {
			return fmt.Sprintf("Ready: every objective held at %s (p99 %s, error rate %s).",
				fmtRPS(s.run.Summary.ThroughputRPS), fmtMs(s.run.Summary.Latency.P99), fmtPct(s.run.Summary.ErrorRate))
		}
		return notReady(s, why)
	}
	st := s.study
	if !st.Complete && s.outcome != "failed" {
		why = append(why, "the study did not run to its end")
	}
	if st.Capacity.SingleInstanceRPS <= 0 && st.Capacity.RequiredMet == nil {
		why = append(why, "no load level met the objectives")
	}
	if !v.Ready {
		return notReady(s, dedupe(why))
	}
	rec := st.Recommendation
	switch {
	case rec.PeakRPS > 0 && rec.MinInstances > 0:
		return fmt.Sprintf("Ready for the launch load (peak %s) with %d instances and room to %d: autoscale at %s per instance.",
			fmtRPS(rec.PeakRPS), rec.MinInstances, rec.MaxInstances, fmtRPS(rec.AutoscaleRPS))
	case rec.AutoscaleRPS > 0:
		return fmt.Sprintf("Ready: one instance carries %s within the objectives; autoscale at %s per instance (no business inputs to size the fleet).",
			fmtRPS(st.Capacity.SingleInstanceRPS), fmtRPS(rec.AutoscaleRPS))
	}
	return fmt.Sprintf("Ready: one instance carries %s within the objectives.", fmtRPS(st.Capacity.SingleInstanceRPS))
}

func notReady(s *source, why []string) string {
	if len(why) == 0 {
		why = []string{"the " + s.kind + " ended " + s.outcome}
	}
	if len(why) > 3 {
		why = append(why[:3], fmt.Sprintf("%d more", len(why)-3))
	}
	return "Not ready: " + strings.Join(why, "; ") + "."
}

// failure says in words why a check failed.
func failure(c check) string {
	switch c.Group {
	case "regression":
		return fmt.Sprintf("%s %s against the baseline", c.Name, c.Change)
	case "gate":
		return ""
	case "run":
		return c.Measured
	}
	why := ""
	if c.Why != "" {
		why = " (" + c.Why + ")"
	}
	if c.Threshold == "" {
		return c.Name + " is " + c.Measured + why
	}
	return fmt.Sprintf("%s is %s against the objective %s%s", c.Name, c.Measured, c.Threshold, why)
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// pText writes a p-value after "p": "= 0.03" or "< 0.0001".
func pText(p string) string {
	if strings.HasPrefix(p, "<") {
		return "< " + p[1:]
	}
	return "= " + p
}
