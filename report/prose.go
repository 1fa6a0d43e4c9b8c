package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/correlate"
)

// paragraph is the executive summary in plain words.
func paragraph(s *source, v *view) string {
	var b strings.Builder
	target := v.Target
	if target == "" {
		target = "the target"
	}
	env := ""
	if v.Environment != "" {
		env = " (" + v.Environment + ")"
	}
	dur := v.Finished.Sub(v.Started)
	switch s.kind {
	case kindRun:
		r := s.run
		sum := r.Summary
		fmt.Fprintf(&b, "Headroom ran the load profile of %s against %s%s on %s for %s: %d requests at %s, %s of them failed; over the whole run (one merged histogram) p50 was %s, p95 %s and p99 %s.",
			name(v.PlanName), target, env, fmtTime(v.Started), fmtDur(dur), sum.Requests, fmtRPS(sum.ThroughputRPS),
			fmtPct(sum.ErrorRate), fmtMs(sum.Latency.P50), fmtMs(sum.Latency.P95), fmtMs(sum.Latency.P99))
		held, total := 0, 0
		for _, c := range v.Checks {
			if c.Group == "slo" {
				total++
				if !c.Failed() {
					held++
				}
			}
		}
		if total > 0 {
			fmt.Fprintf(&b, " %d of %d objectives held.", held, total)
		}
		if r.Aborted != "" {
			fmt.Fprintf(&b, " An abort rule stopped the run: %s.", r.Aborted)
		}
		if r.CappedAt > 0 {
			fmt.Fprintf(&b, " abort.max_rate held the load back at %s/s.", fmtFloat(r.CappedAt))
		}
	default:
		st := s.study
		fmt.Fprintf(&b, "Headroom studied how much load %s carries at %s%s on %s: %d steps, %s under load, %d requests.",
			name(v.PlanName), target, env, fmtTime(v.Started), len(st.Steps)+len(st.Prediction.Steps), fmtDur(secs(st.LoadS)), st.Sent)
		c := st.Capacity
		if c.SingleInstanceRPS > 0 {
			bound := ""
			if c.AtLeast {
				bound = " at least (limited by " + string(c.LimitedBy) + ")"
			}
			fmt.Fprintf(&b, " One instance carries%s %s within the objectives", bound, fmtRPS(c.SingleInstanceRPS))
			if u := unacceptableStep(st); u != nil {
				fmt.Fprintf(&b, "; at %s it broke them (%s)", fmtRPS(c.UnacceptableRPS), strings.Join(u.Reasons, "; "))
			}
			b.WriteString(".")
		} else {
			b.WriteString(" No load level met the objectives.")
		}
		if pr := st.Prediction; pr.Instances > 0 && pr.PredictedRPS > 0 {
			fmt.Fprintf(&b, " %d instances are predicted to carry %s", pr.Instances, fmtRPS(pr.PredictedRPS))
			if pr.MeasuredRPS != nil && pr.Ratio != nil {
				fmt.Fprintf(&b, "; they carried %s, %.0f%% of the prediction", fmtRPS(*pr.MeasuredRPS), 100**pr.Ratio)
				if why, ok := correlate.ScalingReasonOf(s.findings); ok && why.Explained && pr.SubLinear() {
					b.WriteString(": " + why.Statement)
				}
			}
			b.WriteString(".")
		}
		if r := st.Stress; r.Skipped == "" && r.Rate > 0 {
			if r.Recovered && r.RecoveryS != nil {
				fmt.Fprintf(&b, " After a surge to %s iterations/s it recovered in %d s.", fmtFloat(r.Rate), *r.RecoveryS)
			} else {
				fmt.Fprintf(&b, " After a surge to %s iterations/s it had not recovered within %s s.", fmtFloat(r.Rate), fmtFloat(r.WindowS))
			}
		}
		if rec := st.Recommendation; rec.AutoscaleRPS > 0 && rec.MinInstances > 0 {
			fmt.Fprintf(&b, " Scale out at %s per instance and run %d to %d instances for a sustained %s and a launch peak of %s.",
				fmtRPS(rec.AutoscaleRPS), rec.MinInstances, rec.MaxInstances, fmtRPS(rec.SustainedRPS), fmtRPS(rec.PeakRPS))
		}
	}
	if len(s.findings) > 0 {
		f := s.findings[0]
		fmt.Fprintf(&b, " The first-ranked bottleneck is %s: %s", lowerFirst(f.Title), f.Recommendation)
		if !strings.HasSuffix(f.Recommendation, ".") {
			b.WriteString(".")
		}
	}
	if r := v.Regression; r != nil {
		switch {
		case r.Failed:
			reasons := r.Reasons
			if len(reasons) > 3 {
				reasons = append(reasons[:3:3], fmt.Sprintf("%d more in the regression section", len(r.Reasons)-3))
			}
			fmt.Fprintf(&b, " Against the baseline it regressed: %s.", strings.Join(reasons, "; "))
		case r.Verdict == "improvement":
			b.WriteString(" Against the baseline it improved.")
		default:
			fmt.Fprintf(&b, " Against the baseline nothing regressed by more than %s with significance.", fmtPct(r.MaxRegression))
		}
	}
	return b.String()
}

func name(plan string) string {
	if plan == "" {
		return "the plan"
	}
	return "“" + plan + "”"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if len(s) > 1 && strings.ToUpper(s[:2]) == s[:2] { // an acronym: CPU, GC
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s)) * time.Second }
