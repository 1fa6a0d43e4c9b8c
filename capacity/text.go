package capacity

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes a readable summary of the study to w.
func (s *Study) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Capacity study %q against %s\n\n", s.Plan, s.URL)

	c := s.Capacity
	capStep, _ := stepAt(s.Steps, c.SingleInstanceRate)
	badStep, _ := stepAt(s.Steps, c.UnacceptableRate)
	capFig := figure(c.SingleInstanceRPS, capStep, c.SingleInstanceSource, c.RequestsPerIteration)
	if c.CappedAtUnacceptable {
		capFig = fmt.Sprintf("%s req/s (step %d at %s it/s measured %s req/s; capped at the unacceptable point, where throughput fell)",
			num(c.SingleInstanceRPS), capStep.Index, num(capStep.Rate), num(capStep.Throughput))
	}
	badFig := figure(c.UnacceptableRPS, badStep, c.UnacceptableSource, c.RequestsPerIteration)
	switch {
	case c.SingleInstanceRPS == 0 && c.UnacceptableRPS == 0:
		fmt.Fprintf(b, "Single instance: no acceptable rate found\n")
	case c.SingleInstanceRPS == 0:
		fmt.Fprintf(b, "Single instance: no acceptable rate found (lowest unacceptable %s)\n", badFig)
	case c.AtLeast:
		fmt.Fprintf(b, "Single instance: capacity ≥ %s req/s (limited by %s; %s)\n", num(c.SingleInstanceRPS), c.LimitedBy,
			provenance(capStep, c.SingleInstanceSource, c.RequestsPerIteration))
	default:
		fmt.Fprintf(b, "Single instance: capacity %s; unacceptable from %s; bracket %s–%s it/s (%.1f%%)\n",
			capFig, badFig, num(c.SingleInstanceRate), num(c.UnacceptableRate), 100*(c.UnacceptableRate-c.SingleInstanceRate)/c.SingleInstanceRate)
	}
	if c.RequiredMet != nil {
		verdict := "reached"
		if !*c.RequiredMet {
			verdict = "NOT reached"
		}
		fmt.Fprintf(b, "Required: %s req/s — %s\n", num(c.RequiredRPS), verdict)
	}
	b.WriteString("\n")
	writeSteps(b, s.Steps)

	if s.LittlesLaw.Throughput > 0 {
		fmt.Fprintf(b, "\nLittle's Law: %s\n", s.LittlesLaw.Statement)
	}
	if u := s.USL; u.Reported {
		fmt.Fprintf(b, "USL: λ = %.3g req/s, σ = %.4f, κ = %.6f, R² = %.3f over %d steady steps", u.Lambda, u.Sigma, u.Kappa, u.R2, u.Points)
		tag := ""
		if u.Extrapolated {
			tag = " (extrapolated)"
		}
		if u.AboveUnacceptable {
			tag += " (above the unacceptable point: not a capacity)"
		}
		switch {
		case u.PeakN > 0:
			fmt.Fprintf(b, "; peak %s req/s at concurrency %.1f%s\n", num(u.PeakX), u.PeakN, tag)
		case u.Ceiling == 0:
			fmt.Fprintf(b, "; linear over the measured concurrencies (up to %.1f): no contention or coherency measured\n", u.MaxMeasuredN)
		default:
			fmt.Fprintf(b, "; no retrograde region, throughput approaches %s req/s%s\n", num(u.Ceiling), tag)
		}
		for _, c := range u.Caveats {
			fmt.Fprintf(b, "  caveat: %s\n", c)
		}
	} else if u.Refused != "" {
		fmt.Fprintf(b, "USL: not reported — %s\n", u.Refused)
	}
	if len(s.USL.Excluded) > 0 {
		fmt.Fprintf(b, "  not fitted (not steady): %s\n", strings.Join(s.USL.Excluded, "; "))
	}
	if s.Prediction.Instances > 0 {
		fmt.Fprintf(b, "Prediction: %s\n", s.Prediction.Statement)
		if len(s.Prediction.Steps) > 0 {
			writeSteps(b, s.Prediction.Steps)
		}
	}
	if s.Stress.Statement != "" {
		fmt.Fprintf(b, "Stress: %s\n", s.Stress.Statement)
	} else if s.Stress.Skipped != "" {
		fmt.Fprintf(b, "Stress: %s\n", s.Stress.Skipped)
	}
	if r := s.Recommendation; r.AutoscaleRPS > 0 {
		of := "unacceptable point"
		switch r.Basis {
		case BasisCapacity:
			of = "capacity lower bound"
		case BasisFleet:
			of = fmt.Sprintf("per-instance rate measured at %d instances", s.Prediction.Instances)
		}
		fmt.Fprintf(b, "\nRecommendation: scale out at %s req/s per instance (%s × the %s); %d instances minimum, %d maximum\n",
			num(r.AutoscaleRPS), num(r.AutoscaleAt), of, r.MinInstances, r.MaxInstances)
		if r.CPU != nil {
			of := "one core (core count not known)"
			if r.CPUCores > 0 {
				of = num(r.CPUCores) + " core"
				if r.CPUCores != 1 {
					of += "s"
				}
			}
			fmt.Fprintf(b, "  CPU at the threshold: %.0f%% of %s\n", *r.CPU*100, of)
		}
		for _, a := range r.Arithmetic {
			fmt.Fprintf(b, "  %s\n", a)
		}
	}
	if len(s.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range s.Notes {
			fmt.Fprintf(b, "  - %s\n", n)
		}
	}
	fmt.Fprintf(b, "\nLoad spent: %.0f s, %d requests\n", s.LoadS, s.Sent)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSteps writes a table of steps.
func writeSteps(w io.Writer, steps []Step) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tphase\trate/s\toffered\tachieved\tX req/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\tdropped\tbusy VUs\tin-flight\tL=X·W\t  verdict")
	for _, st := range steps {
		verdict := string(st.Verdict)
		switch {
		case st.Stopped && st.WarmupOnly:
			verdict += " (stopped early, within its warm-up)"
		case st.Stopped:
			verdict += " (stopped early)"
		case st.Verdict != GeneratorLimited && st.Steadiness != nil && !st.Steadiness.Steady:
			verdict += " (not steady)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f%%\t%.1f%%\t%.0f\t%.1f\t%.1f\t  %s\n",
			st.Index, st.Phase, num(st.Rate), st.Offered, st.Achieved, st.Throughput,
			st.Latency.P50, st.Latency.P95, st.Latency.P99, st.Latency.Max, st.ErrorRate*100,
			st.Dropped*100, st.Busy, st.InFlight, st.LittlesL, verdict)
	}
	_ = tw.Flush()
}

// stepAt returns the last of steps run at rate, if any.
func stepAt(steps []Step, rate float64) (Step, bool) {
	return Exploration{Steps: steps}.At(rate)
}

// figure writes a rate in requests/s with the step it comes from and how:
// "697.5 req/s (step 9 at 450 it/s, measured)".
func figure(rps float64, st Step, src Source, rpi float64) string {
	return fmt.Sprintf("%s req/s (%s)", num(rps), provenance(st, src, rpi))
}

// provenance says which step a figure comes from and how it was found.
func provenance(st Step, src Source, rpi float64) string {
	if src == Converted {
		why := "the step measured nothing"
		if st.Seconds >= 1 && st.Throughput > 0 {
			why = fmt.Sprintf("the load offered: the step completed only %s req/s", num(st.Throughput))
		}
		return fmt.Sprintf("step %d: converted, %s it/s × %s requests per iteration; %s", st.Index, num(st.Rate), num(rpi), why)
	}
	if st.WarmupOnly {
		return fmt.Sprintf("step %d at %s it/s, measured over its warm-up: stopped early", st.Index, num(st.Rate))
	}
	return fmt.Sprintf("step %d at %s it/s, measured", st.Index, num(st.Rate))
}
