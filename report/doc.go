// Package report renders a run or a capacity study — with its findings,
// its plan and, optionally, a baseline to compare with — as the document
// stakeholders sign: self-contained HTML (inline CSS and SVG charts, light
// and dark, printable on A4 or Letter), PDF (that HTML printed by headless
// Chromium), Markdown with PNG charts beside it, and JUnit XML with one
// test case per objective, capacity requirement and regression check.
//
// Every format has the same content, in this order: the executive summary
// (a verdict sentence for the product owner, a plain paragraph and the
// verdict table), the test plan, the charts (drawn with gonum/plot), the
// bottlenecks ranked by impact with their evidence and recommendations,
// the capacity arithmetic with every formula and its numbers, and the
// regression risk against the baseline. Percentiles come from merged HDR
// histograms, never from averaged percentiles.
//
// Example:
//
//	a, err := pipeline.Decode(data) // a run.json or study.json
//	if err != nil { … }
//	p, _ := plan.LoadFile("plan.yaml")
//	err = report.Render(w, a, report.Options{Format: report.Markdown, Plan: p, ChartDir: "report-charts"})
//
//	// the PDF, stopped with ctx:
//	err = report.WritePDF(ctx, w, a, report.Options{Plan: p, Paper: report.Letter})
//
//	// the CI gate: fails on a significant regression over 10%
//	failed, res, err := report.Gate(baseline, a, 0.10)
package report
