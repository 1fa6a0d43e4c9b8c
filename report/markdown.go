package report

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/headroom-sre/headroom/correlate"
)

// writeMarkdown writes the report as GitHub-flavoured Markdown, its charts
// as PNG files in o.ChartDir.
func writeMarkdown(w io.Writer, v *view, o Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdText(v.Title))
	b.WriteString("*" + mdText(strings.Join(subtitle(v), " · ")) + "*\n\n")

	b.WriteString("## Executive summary\n\n")
	fmt.Fprintf(&b, "**%s**\n\n%s\n\n", mdText(v.Sentence), mdText(v.Paragraph))
	b.WriteString("| Check | Threshold | Measured | Result | Note |\n|---|---|---|---|---|\n")
	for _, c := range v.Checks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(c.Name), cell(c.Threshold), cell(c.Measured), resultWord(c.Status), cell(c.Note))
	}
	b.WriteString("\n")
	if len(v.Requests) > 0 {
		fmt.Fprintf(&b, "Requests by name, %s; percentiles from each name's merged histogram:\n\n", v.RequestsAt)
		b.WriteString("| Request | Requests | Rate | p50 | p95 | p99 | Max | Errors |\n|---|---|---|---|---|---|---|---|\n")
		for _, r := range v.Requests {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", cell(r.Name), r.Requests, fmtRPS(r.Rate),
				fmtMs(r.P50), fmtMs(r.P95), fmtMs(r.P99), fmtMs(r.Max), fmtPct(r.ErrorRate))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Test plan\n\n")
	mdPlan(&b, v.Plan)

	b.WriteString("## Charts\n\n")
	if err := mdCharts(&b, v, o); err != nil {
		return err
	}

	b.WriteString("## Bottlenecks, ranked by impact\n\n")
	mdFindings(&b, v)
	if v.Profiles != "" {
		b.WriteString(mdText(v.Profiles) + "\n\n")
	}

	b.WriteString("## Capacity arithmetic\n\n")
	for _, s := range v.Arithmetic {
		fmt.Fprintf(&b, "### %s\n\n", s.Title)
		for _, l := range s.Lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
	if len(v.Steps) > 0 {
		b.WriteString("### Steps\n\nEach step's figures exclude its warm-up; percentiles come from the step's merged histogram.\n\n")
		b.WriteString("| # | Phase | Rate (it/s) | Throughput | Goodput | p50 | p95 | p99 | Errors | In flight | L = X×W | Verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range v.Steps {
			verdict := string(s.Verdict)
			if len(s.Reasons) > 0 {
				verdict += ": " + strings.Join(s.Reasons, "; ")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				stepNo(string(s.Phase), s.Index), s.Phase, fmtFloat(s.Rate), fmtRPS(s.Throughput), fmtRPS(s.Goodput),
				fmtMs(s.Latency.P50), fmtMs(s.Latency.P95), fmtMs(s.Latency.P99), fmtPct(s.ErrorRate),
				fmtFloat(s.InFlight), fmtFloat(s.LittlesL), cell(verdict))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Regression risk\n\n")
	mdRegression(&b, v.Regression)

	if len(v.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range v.Notes {
			fmt.Fprintf(&b, "- %s\n", mdText(n))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// subtitle is the line under the title: target, environment, time, outcome.
func subtitle(v *view) []string {
	var parts []string
	if v.Target != "" {
		parts = append(parts, v.Target)
	}
	if v.Environment != "" {
		parts = append(parts, v.Environment)
	}
	parts = append(parts, fmtTime(v.Started)+" – "+fmtClock(v.Finished))
	if v.Outcome != "" {
		parts = append(parts, "outcome: "+v.Outcome)
	}
	return parts
}

func stepNo(phase string, i int) string {
	switch phaseGroup(phase) {
	case "verify":
		return fmt.Sprintf("V%d", i)
	case "stress":
		return "stress"
	}
	return fmt.Sprint(i)
}

// resultWord is a check's result as a word that reads in any format.
func resultWord(s status) string {
	switch s {
	case statusPass:
		return "PASS"
	case statusFail:
		return "FAIL"
	case statusWarn:
		return "WARN"
	}
	return "—"
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string { return mdText(s) }

// mdEscaper escapes what Markdown (and the HTML it lets through) would
// read as links, images, code or tags: a plan's names and descriptions
// are text. Emphasis marks other than * are left as they are (harmless,
// and "error_rate" stays readable).
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "[", `\[`, "]", `\]`, "|", `\|`,
	"<", `\<`, ">", `\>`, "&", `\&`, "\r\n", " ", "\n", " ", "\r", " ",
)

// mdText is s as literal Markdown text on one line.
func mdText(s string) string { return mdEscaper.Replace(s) }

func mdPairs(b *strings.Builder, title string, ps []pair) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "**%s**\n\n| | |\n|---|---|\n", title)
	for _, p := range ps {
		fmt.Fprintf(b, "| %s | %s |\n", cell(p.Key), cell(p.Value))
	}
	b.WriteString("\n")
}

func mdPlan(b *strings.Builder, p *planView) {
	if p == nil {
		b.WriteString("The plan was not attached to this report (`headroom report --plan plan.yaml` adds it).\n\n")
		return
	}
	if p.Description != "" {
		fmt.Fprintf(b, "%s\n\n", mdText(p.Description))
	}
	mdPairs(b, "Service and environment", p.Service)
	mdPairs(b, "Objectives (SLOs)", p.Objectives)
	mdPairs(b, "Load profile", p.Load)
	if len(p.Stages) > 0 {
		b.WriteString("| Stage | Duration | Target |\n|---|---|---|\n")
		for _, s := range p.Stages {
			fmt.Fprintf(b, "| %d | %s | %s |\n", s.N, s.Duration, s.Target)
		}
		b.WriteString("\n")
	}
	if len(p.Journeys) > 0 {
		b.WriteString("**Journeys**\n\n| Journey | Weight | Share | Steps |\n|---|---|---|---|\n")
		for _, j := range p.Journeys {
			fmt.Fprintf(b, "| %s | %d | %s | %s |\n", cell(j.Name), j.Weight, j.Share, cell(strings.Join(j.Steps, " → ")))
		}
		b.WriteString("\n")
	}
	mdPairs(b, "Observability", p.Observability)
	mdPairs(b, "Blast-radius limits", p.BlastRadius)
	mdPairs(b, "Capacity search", p.Capacity)
	mdPairs(b, "Business inputs", p.Business)
}

func mdCharts(b *strings.Builder, v *view, o Options) error {
	if len(v.Charts) == 0 {
		b.WriteString("No seconds were recorded: nothing to draw.\n\n")
		return nil
	}
	if o.ChartDir == "" {
		b.WriteString("The charts are in the HTML and PDF reports.\n\n")
		return nil
	}
	if err := os.MkdirAll(o.ChartDir, 0o755); err != nil {
		return fmt.Errorf("report: charts: %w", err)
	}
	for _, c := range v.Charts {
		img, err := c.png()
		if err != nil {
			return err
		}
		file := c.ID + ".png"
		if err := os.WriteFile(filepath.Join(o.ChartDir, file), img, 0o644); err != nil {
			return fmt.Errorf("report: charts: %w", err)
		}
		fmt.Fprintf(b, "![%s](%s)\n\n*%s*\n\n", c.Title, path.Join(filepath.ToSlash(o.ChartLink), file), c.Caption)
	}
	return nil
}

func mdFindings(b *strings.Builder, v *view) {
	if w := v.Window; w != nil {
		fmt.Fprintf(b, "Degradation window %s – %s (onset %s): %s; p99 %s at baseline, %s degraded.\n\n",
			fmtClock(w.Start), fmtClock(w.End), fmtClock(w.Onset), w.Reason, fmtMs(w.BaselineP99Ms), fmtMs(w.DegradedP99Ms))
	}
	if len(v.Findings) == 0 {
		b.WriteString("No bottleneck was found")
		if v.Window == nil {
			b.WriteString(": latency did not degrade, or no correlation was run")
		}
		b.WriteString(".\n\n")
	}
	for _, f := range v.Findings {
		fmt.Fprintf(b, "### %d. %s\n\n*%s, score %s*\n\n", f.Rank, f.Title, f.Kind, fmtFloat(f.Score))
		for _, fact := range f.Evidence.Facts {
			fmt.Fprintf(b, "- %s\n", fact)
		}
		if len(f.Evidence.Facts) > 0 {
			b.WriteString("\n")
		}
		if rs := readings(f); len(rs) > 0 {
			b.WriteString("| Signal | Baseline | Degraded | Peak | Lead | Correlation with p99 |\n|---|---|---|---|---|---|\n")
			for _, r := range rs {
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", cell(r.Title), withUnit(r.Baseline, r.Unit), withUnit(r.Degraded, r.Unit),
					withUnit(r.Peak, r.Unit), lead(r.LeadSeconds), optFloat(r.Pearson))
			}
			b.WriteString("\n")
		}
		if sp := f.Evidence.Span; sp != nil {
			b.WriteString("| Span | Baseline | Degraded | Added | Share of added latency |\n|---|---|---|---|---|\n")
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n\n", cell(spanName(*sp)), fmtMs(sp.BaselineMs), fmtMs(sp.DegradedMs), fmtMs(sp.AddedMs), fmtPct(sp.Share))
		}
		for _, q := range f.Evidence.Queries {
			fmt.Fprintf(b, "- query: `%s`\n", strings.ReplaceAll(q, "`", "'"))
		}
		for _, t := range f.Evidence.Traces {
			fmt.Fprintf(b, "- trace %s\n", mdTrace(t))
		}
		if len(f.Evidence.Queries)+len(f.Evidence.Traces) > 0 {
			b.WriteString("\n")
		}
		if spans := spansOf(f.Evidence.Traces); len(spans) > 0 {
			b.WriteString("| Span of the slowest trace | Spans | Duration | Own time |\n|---|---|---|---|\n")
			for _, sp := range spans {
				name := cell(sp.Name)
				if sp.Statement != "" {
					name += " `" + strings.ReplaceAll(sp.Statement, "`", "'") + "`"
				}
				fmt.Fprintf(b, "| %s | %d | %s | %s |\n", name, sp.Count, fmtMs(sp.DurationMs), fmtMs(sp.SelfMs))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "**Recommendation:** %s\n\n", f.Recommendation)
	}
	if len(v.NotAvailable) > 0 {
		b.WriteString("Not available:\n\n")
		for _, n := range v.NotAvailable {
			fmt.Fprintf(b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
}

// spansShown is how many span names of a finding's slowest trace a report
// lists, most own time first.
const spansShown = 6

// spansOf is the span breakdown of the slowest of a finding's traces that
// has one; nil when none has.
func spansOf(ts []correlate.TraceLink) []correlate.SpanSummary {
	var best *correlate.TraceLink
	for i := range ts {
		if len(ts[i].Spans) > 0 && (best == nil || ts[i].DurationMs > best.DurationMs) {
			best = &ts[i]
		}
	}
	if best == nil {
		return nil
	}
	return best.Spans[:min(spansShown, len(best.Spans))]
}

func mdTrace(t correlate.TraceLink) string {
	s := fmt.Sprintf("[%s](%s) %s %s", short(t.ID), t.URL, t.Root, fmtMs(t.DurationMs))
	if t.Grafana != "" {
		s += fmt.Sprintf(" ([Grafana](%s))", t.Grafana)
	}
	return s
}

func mdRegression(b *strings.Builder, r *regressionView) {
	if r == nil {
		b.WriteString("No baseline was given (`--baseline OLD.json` compares with one).\n\n")
		return
	}
	fmt.Fprintf(b, "Compared with %s; a change counts when it is larger than %s and significant (Mann–Whitney U over per-second values, α = %s, Holm–Bonferroni over the %d tests of every request name and metric; the capacity is a bracket comparison, no test).\n\n",
		r.Baseline, fmtPct(r.MaxRegression), fmtFloat(r.Alpha), r.Tests)
	fmt.Fprintf(b, "**Gate: %s.** Verdict: %s.\n\n", gateWord(r), strings.ReplaceAll(r.Verdict, "_", " "))
	for _, s := range r.Reasons {
		fmt.Fprintf(b, "- %s\n", s)
	}
	if len(r.Reasons) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| Request | Metric | Baseline | Current | Change | p (Holm-adjusted) | Call |\n|---|---|---|---|---|---|---|\n")
	rows := r.Rows
	if r.Capacity != nil {
		rows = append(append([]deltaRow(nil), rows...), *r.Capacity)
	}
	for _, d := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", cell(d.Name), d.Metric, d.Base, d.Current, d.Change, d.PValue, d.Call())
	}
	b.WriteString("\n")
	if len(r.Safe) > 0 {
		fmt.Fprintf(b, "Safe to ship: %s.\n\n", strings.Join(r.Safe, ", "))
	}
	if len(r.Retest) > 0 {
		fmt.Fprintf(b, "Needs re-testing: %s.\n\n", strings.Join(r.Retest, ", "))
	}
}

func gateWord(r *regressionView) string {
	if r.Failed {
		return "FAIL"
	}
	return "PASS"
}
