package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// printSummary writes the end-of-run summary: per request name and overall,
// dropped iterations, each objective with ✓/✗, and the abort reason.
func printSummary(w io.Writer, p *plan.Plan, res *generator.Result, slos []pipeline.SLOResult, interrupted bool) {
	d := res.End.Sub(res.Start)
	fmt.Fprintf(w, "\nheadroom run: %s — %s model, %v\n\n", p.Name, p.Load.Model, d.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  request\trequests\trate\tp50\tp90\tp95\tp99\tmax\terrors")
	row := func(name string, s generator.Summary) {
		l := s.Latency
		line := fmt.Sprintf("  %s\t%d\t%.1f/s\t%s\t%s\t%s\t%s\t%s\t%s  %s", name, s.Requests, s.ThroughputRPS,
			fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P95), fmtMs(l.P99), fmtMs(l.Max), fmtPct(s.ErrorRate), topClasses(s.Classes, 3))
		fmt.Fprintln(tw, strings.TrimRight(line, " "))
	}
	for _, s := range res.ByName {
		row(s.Name, s)
	}
	row("all", res.Summary)
	tw.Flush()

	s := res.Summary
	fmt.Fprintf(w, "\n  iterations %d, dropped %d", s.Iterations, s.DroppedIterations)
	if due := s.Iterations + s.DroppedIterations; due > 0 && s.DroppedIterations > 0 {
		fmt.Fprintf(w, " (%s of those due)", fmtPct(float64(s.DroppedIterations)/float64(due)))
	}
	fmt.Fprintf(w, ", %s received\n", fmtBytes(s.Bytes))

	if len(slos) > 0 {
		fmt.Fprintln(w, "\n  SLO")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range slos {
			mark := "✓"
			if !r.Pass {
				mark = "✗"
			}
			fmt.Fprintf(tw, "  %s %s\t%s\tmeasured %s\n", mark, r.Name, r.Threshold, fmtValue(r))
		}
		tw.Flush()
	}
	if res.CappedAt > 0 {
		fmt.Fprintf(w, "\n  capped: abort.max_rate held the load at %g iterations/s\n", res.CappedAt)
	}
	switch {
	case res.Aborted != "":
		fmt.Fprintf(w, "\n  aborted: %s\n", res.Aborted)
	case interrupted:
		fmt.Fprintln(w, "\n  interrupted: the run was stopped before the end of its profile")
	}
}

func fmtValue(r pipeline.SLOResult) string {
	if r.Note != "" {
		return "nothing (" + r.Note + ")"
	}
	switch r.Unit {
	case "ms":
		return fmtMs(r.Value)
	case "ratio":
		return fmtPct(r.Value)
	case "req/s":
		return fmt.Sprintf("%.1f/s", r.Value)
	}
	return strconv.FormatFloat(r.Value, 'f', -1, 64)
}

// fmtMs prints milliseconds with a unit that keeps 3 significant digits.
func fmtMs(ms float64) string {
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

func fmtPct(f float64) string {
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(f*100, 'f', 2, 64) + "%"
}

func fmtBytes(n int64) string {
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
