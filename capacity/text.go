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
	switch {
	case c.SingleInstanceRPS == 0:
		fmt.Fprintf(b, "Single instance: no acceptable rate found (lowest unacceptable %s req/s)\n", num(c.UnacceptableRPS))
	case c.AtLeast:
		fmt.Fprintf(b, "Single instance: capacity ≥ %s req/s (limited by %s)\n", num(c.SingleInstanceRPS), c.LimitedBy)
	default:
		fmt.Fprintf(b, "Single instance: capacity %s req/s; unacceptable from %s req/s (bracket %.1f%%)\n",
			num(c.SingleInstanceRPS), num(c.UnacceptableRPS), 100*(c.UnacceptableRPS-c.SingleInstanceRPS)/c.SingleInstanceRPS)
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
		fmt.Fprintf(b, "USL: λ = %.3g req/s, σ = %.4f, κ = %.6f, R² = %.3f over %d steps", u.Lambda, u.Sigma, u.Kappa, u.R2, u.Points)
		if u.PeakN > 0 {
			fmt.Fprintf(b, "; peak %s req/s at concurrency %.1f\n", num(u.PeakX), u.PeakN)
		} else {
			fmt.Fprintf(b, "; no retrograde region, throughput approaches %s req/s\n", num(u.Ceiling))
		}
	} else if u.Refused != "" {
		fmt.Fprintf(b, "USL: not reported — %s\n", u.Refused)
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
		fmt.Fprintf(b, "\nRecommendation: scale out at %s req/s per instance; %d instances minimum, %d maximum\n",
			num(r.AutoscaleRPS), r.MinInstances, r.MaxInstances)
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
	fmt.Fprintln(tw, "#\tphase\trate/s\toffered\tachieved\tX req/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\tin-flight\tL=X·W\t  verdict")
	for _, st := range steps {
		verdict := string(st.Verdict)
		if st.Stopped {
			verdict += " (stopped early)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f%%\t%.1f\t%.1f\t  %s\n",
			st.Index, st.Phase, num(st.Rate), st.Offered, st.Achieved, st.Throughput,
			st.Latency.P50, st.Latency.P95, st.Latency.P99, st.Latency.Max, st.ErrorRate*100,
			st.InFlight, st.LittlesL, verdict)
	}
	_ = tw.Flush()
}
