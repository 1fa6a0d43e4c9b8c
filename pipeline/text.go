package pipeline

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
)

// WriteText writes the document as plain text: its summary, then its
// findings. The CLI and the server print a result with it.
func (a Artifact) WriteText(w io.Writer) error {
	switch {
	case a.Study != nil:
		return a.Study.WriteText(w)
	case a.Run != nil:
		return a.Run.WriteText(w)
	}
	return fmt.Errorf("pipeline: the document holds no run or study")
}

// WriteText writes the run's summary, then its findings.
func (r *RunResult) WriteText(w io.Writer) error {
	if err := r.WriteSummary(w); err != nil {
		return err
	}
	return WriteFindings(w, r.Correlation)
}

// WriteText writes the study's account, then its findings.
func (s *StudyResult) WriteText(w io.Writer) error {
	if err := s.WriteSummary(w); err != nil {
		return err
	}
	return WriteFindings(w, s.Correlation)
}

// WriteSummary writes the study's account (capacity.Study.WriteText): what
// the CLI prints as soon as the load has ended.
func (s *StudyResult) WriteSummary(w io.Writer) error {
	if s.Study == nil {
		return fmt.Errorf("pipeline: the study document holds no study")
	}
	return s.Study.WriteText(w)
}

// WriteFindings writes the degradation window and the top findings under a
// heading; nothing when rep is nil.
func WriteFindings(w io.Writer, rep *correlate.Report) error {
	if rep == nil {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Findings (Prometheus metrics and traces of the degradation window):")
	return rep.WriteText(w)
}

// WriteSummary writes the run's summary: per request name and overall,
// dropped iterations, each objective with ✓/✗, and why it stopped early.
// It is what the CLI prints as soon as the load has ended.
func (r *RunResult) WriteSummary(w io.Writer) error {
	res := r.Result
	if res == nil {
		return fmt.Errorf("pipeline: the run document holds no result")
	}
	ew := &errWriter{w: w}
	d := res.End.Sub(res.Start)
	fmt.Fprintf(ew, "\nheadroom run: %s — %v\n\n", r.Plan, d.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  request\trequests\trate\tp50\tp90\tp95\tp99\tmax\terrors")
	row := func(name string, s generator.Summary) {
		l := s.Latency
		line := fmt.Sprintf("  %s\t%d\t%.1f/s\t%s\t%s\t%s\t%s\t%s\t%s  %s", name, s.Requests, s.ThroughputRPS,
			textMs(l.P50), textMs(l.P90), textMs(l.P95), textMs(l.P99), textMs(l.Max), textPct(s.ErrorRate), topClasses(s.Classes, 3))
		fmt.Fprintln(tw, strings.TrimRight(line, " "))
	}
	for _, s := range res.ByName {
		row(s.Name, s)
	}
	row("all", res.Summary)
	tw.Flush()

	s := res.Summary
	fmt.Fprintf(ew, "\n  iterations %d, dropped %d", s.Iterations, s.DroppedIterations)
	if due := s.Iterations + s.DroppedIterations; due > 0 && s.DroppedIterations > 0 {
		fmt.Fprintf(ew, " (%s of those due)", textPct(float64(s.DroppedIterations)/float64(due)))
	}
	fmt.Fprintf(ew, ", %s received\n", textBytes(s.Bytes))

	if len(r.SLO) > 0 {
		fmt.Fprintln(ew, "\n  SLO")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, o := range r.SLO {
			mark := "✓"
			if !o.Pass {
				mark = "✗"
			}
			fmt.Fprintf(tw, "  %s %s\t%s\tmeasured %s\n", mark, o.Name, o.Threshold, sloText(o))
		}
		tw.Flush()
	}
	if res.CappedAt > 0 {
		fmt.Fprintf(ew, "\n  capped: abort.max_rate held the load at %g iterations/s\n", res.CappedAt)
	}
	switch {
	case res.Aborted != "":
		fmt.Fprintf(ew, "\n  aborted: %s\n", res.Aborted)
	case r.Outcome == Cancelled:
		fmt.Fprintln(ew, "\n  interrupted: the run was stopped before the end of its profile")
	}
	return ew.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, nil
}

func sloText(r SLOResult) string {
	if r.Note != "" {
		return "nothing (" + r.Note + ")"
	}
	switch r.Unit {
	case "ms":
		return textMs(r.Value)
	case "ratio":
		return textPct(r.Value)
	case "req/s":
		return fmt.Sprintf("%.1f/s", r.Value)
	}
	return strconv.FormatFloat(r.Value, 'f', -1, 64)
}

// textMs prints milliseconds with a unit that keeps 3 significant digits.
func textMs(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 1000:
		return fmt.Sprintf("%.3gms", ms)
	}
	return fmt.Sprintf("%.3gs", ms/1000)
}

func textPct(f float64) string {
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(f*100, 'f', 2, 64) + "%"
}

func textBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// topClasses lists the n most frequent error classes: "status_5xx 12, timeout 3".
func topClasses(m map[string]int64, n int) string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	var parts []string
	for i, c := range all {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", c.k, c.v))
	}
	return strings.Join(parts, ", ")
}
