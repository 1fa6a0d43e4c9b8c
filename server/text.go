package server

import (
	"fmt"
	"io"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/pipeline"
)

// writeText writes a job's document as plain text, as the CLI prints it:
// a study's full account, or a run's summary, then the top findings.
func writeText(w io.Writer, a pipeline.Artifact) error {
	var rep *correlate.Report
	switch {
	case a.Study != nil && a.Study.Study != nil:
		if err := a.Study.WriteText(w); err != nil {
			return err
		}
		rep = a.Study.Correlation
	case a.Run != nil && a.Run.Result != nil:
		s := a.Run.Summary
		fmt.Fprintf(w, "run of %s: %s\n", a.Run.Plan, a.Run.Outcome)
		fmt.Fprintf(w, "requests %d, errors %d (%.2f%%), %.1f req/s, latency p50 %.1f ms p95 %.1f ms p99 %.1f ms max %.1f ms\n",
			s.Requests, s.Errors, 100*s.ErrorRate, s.ThroughputRPS, s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max)
		for _, o := range a.Run.SLO {
			mark := "ok  "
			if !o.Pass {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "  %s %-24s %-14s %.2f %s %s\n", mark, o.Name, o.Threshold, o.Value, o.Unit, o.Note)
		}
		rep = a.Run.Correlation
	default:
		return fmt.Errorf("the document holds no run or study")
	}
	if rep != nil {
		return writeFindings(w, *rep)
	}
	return nil
}

// writeFindings writes the degradation window and the top findings, as
// the CLI prints them.
func writeFindings(w io.Writer, rep correlate.Report) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Findings (Prometheus metrics and traces of the degradation window):")
	return rep.WriteText(w)
}
