package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/headroom-sre/headroom/compare"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/report"
)

// reportCmd renders a saved run or study as HTML, PDF, Markdown or JUnit,
// optionally against a baseline; with a baseline it exits 1 when the gate
// fails, after writing the report.
func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headroom report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "html, pdf, md or junit (default: from -o's extension, else html)")
	out := fs.String("o", "", "write the report to this file (default: standard output)")
	fs.StringVar(out, "out", "", "same as -o")
	baseline := fs.String("baseline", "", "an earlier run.json or study.json of the plan: adds the regression section and the gate")
	maxReg := fs.String("max-regression", "10%", "smallest significant change of p95, p99, throughput or capacity that fails the gate")
	planPath := fs.String("plan", "", "the plan file: adds the test plan section (and a study's objectives at capacity)")
	paper := fs.String("paper", "A4", "paper size of the PDF and the HTML's print style: A4 or Letter")
	chromium := fs.String("chromium", "", "the browser that prints the PDF (default: chromium on PATH)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom report RESULT.json [--format html|pdf|md|junit] [--baseline OLD.json] [--max-regression 10%] [--plan plan.yaml] [--paper A4|Letter] [-o FILE]")
		fs.PrintDefaults()
		printGateRule(stderr)
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, "headroom report: want exactly one run.json or study.json")
		fs.Usage()
		return exitUsage
	}
	o := report.Options{Chromium: *chromium}
	if o.Format, err = reportFormat(*format, *out); err == nil {
		o.Paper, err = report.ParsePaper(*paper)
	}
	if err == nil {
		o.MaxRegression, err = report.ParseRegression(*maxReg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "headroom report: %v\n", err)
		return exitUsage
	}
	if *planPath != "" {
		if o.Plan, err = plan.LoadFile(*planPath); err != nil {
			printError(stderr, "headroom report", err)
			return exitUsage
		}
	}
	a, err := readArtifact(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "headroom report: %v\n", err)
		return exitUsage
	}
	if *baseline != "" {
		b, err := readArtifact(*baseline)
		if err != nil {
			fmt.Fprintf(stderr, "headroom report: --baseline: %v\n", err)
			return exitUsage
		}
		o.Baseline = &b
	}
	if o.Format == report.Markdown && *out != "" && *out != "-" {
		dir := strings.TrimSuffix(*out, filepath.Ext(*out)) + "-charts"
		o.ChartDir, o.ChartLink = dir, filepath.Base(dir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var buf bytes.Buffer
	if o.Format == report.PDF {
		err = report.WritePDF(ctx, &buf, a, o)
	} else {
		err = report.Render(&buf, a, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "headroom report: %v\n", err)
		return exitFailed
	}
	if *out == "" || *out == "-" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return exitFailed
		}
	} else if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "headroom report: %v\n", err)
		return exitFailed
	}
	_, sentence, err := report.Verdict(a, o)
	if err != nil {
		fmt.Fprintf(stderr, "headroom report: %v\n", err)
		return exitFailed
	}
	if *out != "" && *out != "-" {
		fmt.Fprintf(stderr, "wrote %s", *out)
		if o.ChartDir != "" {
			fmt.Fprintf(stderr, " (charts in %s)", o.ChartDir)
		}
		fmt.Fprintf(stderr, ": %s\n", sentence)
	}
	if o.Baseline != nil {
		failed, res, err := report.Gate(*o.Baseline, a, o.MaxRegression)
		if err != nil {
			fmt.Fprintf(stderr, "headroom report: %v\n", err)
			return exitFailed
		}
		if failed {
			fmt.Fprintf(stderr, "gate: regression against %s: %s\n", *baseline, strings.Join(res.Regressed(), "; "))
			return exitFailed
		}
		fmt.Fprintf(stderr, "gate: no significant regression over %s against %s\n", *maxReg, *baseline)
	}
	return exitOK
}

// reportFormat is --format, or the format -o's extension names.
func reportFormat(flagValue, out string) (report.Format, error) {
	if flagValue != "" {
		return report.ParseFormat(flagValue)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".pdf":
		return report.PDF, nil
	case ".md", ".markdown":
		return report.Markdown, nil
	case ".xml":
		return report.JUnit, nil
	}
	return report.HTML, nil
}

// readArtifact reads a run.json or study.json.
func readArtifact(path string) (pipeline.Artifact, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return pipeline.Artifact{}, err
	}
	a, err := pipeline.Decode(data)
	if err != nil {
		return pipeline.Artifact{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// printGateRule states, in --help, how the gate decides: the rank tests,
// their Holm–Bonferroni correction over many request names, and the
// capacity's bracket comparison.
func printGateRule(w io.Writer) {
	fmt.Fprintf(w, "\nThe gate (--baseline): %s.\n", compare.Rule)
}

// gateFlags are --baseline and --max-regression of run and capacity.
type gateFlags struct {
	baseline, maxRegression *string
}

func addGateFlags(fs *flag.FlagSet) gateFlags {
	return gateFlags{
		baseline:      fs.String("baseline", "", "an earlier run.json or study.json of the plan: exit 1 when p95, p99, throughput, the error rate (or a study's capacity) regressed with significance"),
		maxRegression: fs.String("max-regression", "10%", "with --baseline: the smallest change that fails the gate"),
	}
}

// load reads the baseline before any load is sent (a bad file must not
// cost a run); nil without --baseline.
func (g gateFlags) load(kind pipeline.Kind) (*pipeline.Artifact, float64, error) {
	max, err := report.ParseRegression(*g.maxRegression)
	if err != nil {
		return nil, 0, fmt.Errorf("--max-regression: %w", err)
	}
	if *g.baseline == "" {
		return nil, max, nil
	}
	a, err := readArtifact(*g.baseline)
	if err != nil {
		return nil, 0, fmt.Errorf("--baseline: %w", err)
	}
	if a.Kind != kind {
		return nil, 0, fmt.Errorf("--baseline: %s is a %s, not a %s", *g.baseline, a.Kind, kind)
	}
	return &a, max, nil
}

// check runs the gate, prints its verdict and reports whether it failed.
func (g gateFlags) check(w io.Writer, base *pipeline.Artifact, cur pipeline.Artifact, max float64) (failed bool, err error) {
	failed, res, err := report.Gate(*base, cur, max)
	if err != nil {
		return false, err
	}
	if failed {
		fmt.Fprintf(w, "\n  gate: REGRESSION against %s (over %s, α %.2g, Holm–Bonferroni over %d rank tests)\n", *g.baseline, *g.maxRegression, res.Alpha, res.Tests)
		for _, r := range res.Regressed() {
			fmt.Fprintf(w, "  ✗ %s\n", r)
		}
		return true, nil
	}
	fmt.Fprintf(w, "\n  gate: no significant regression over %s against %s (%s)\n", *g.maxRegression, *g.baseline, strings.ReplaceAll(string(res.Verdict), "_", " "))
	return false, nil
}
