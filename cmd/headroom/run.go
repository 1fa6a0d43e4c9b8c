package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// runCmd is `headroom run [flags] plan.yaml`: it runs the plan's load
// profile, prints a live progress line and an end summary, checks the SLOs
// and exits 0 (all hold), 1 (one fails), 2 (bad plan or flags) or 3 (an
// abort rule stopped the run).
func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom run [--out run.json] [--base-url URL] [--quiet] plan.yaml")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "write the full result (summary, SLOs, per-second windows) as JSON to this file")
	baseURL := fs.String("base-url", "", "send the load here instead of target.base_url; its host must be allowed by the plan")
	quiet := fs.Bool("quiet", false, "print no live progress line")
	noCorrelate := fs.Bool("no-correlate", false, "skip the findings from the plan's Prometheus and trace store")
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package has said why
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "headroom run: want exactly one plan file, got %d\n", len(files))
		fs.Usage()
		return exitUsage
	}
	fail := func(err error) int {
		printError(stderr, "headroom run", err)
		return exitUsage
	}
	p, err := plan.LoadFile(files[0])
	if err != nil {
		return fail(err)
	}
	var outFile *os.File
	if *out != "" { // open it now: a bad --out must not cost a whole run
		if outFile, err = os.Create(*out); err != nil {
			return fail(fmt.Errorf("--out: %w", err))
		}
		defer outFile.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	load := p.Load
	prog := newProgress(stderr, *quiet, load, totalDuration(load))
	res, err := generator.Run(ctx, p, generator.Options{
		BaseURL:  *baseURL,
		OnSecond: prog.second,
		Warn:     func(msg string) { prog.warn(msg) },
	})
	if err != nil {
		return fail(err)
	}
	prog.finish()
	interrupted := ctx.Err() != nil && res.Aborted == ""
	slos := evaluate(p.Objectives(), res)
	printSummary(stdout, p, res, slos, interrupted)
	var findings *correlate.Report
	if !*noCorrelate && !interrupted {
		findings = explainAfter(ctx, p, stdout, stderr, "run", func(ctx context.Context) (correlate.Report, error) {
			return correlate.ExplainRun(ctx, *res, p)
		})
	}

	if outFile != nil {
		if err := writeJSON(outFile, p, res, slos, findings); err != nil {
			fmt.Fprintln(stderr, "headroom run: --out:", err)
			return exitFailed
		}
	}
	switch {
	case res.Aborted != "" || interrupted:
		return exitAborted
	case !allPass(slos):
		return exitFailed
	}
	return exitOK
}

// parseInterleaved parses flags placed before, between or after the
// positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// printError writes err after the command's name: one line per problem
// when it is a plan's several problems (plan.Errors), else one line.
func printError(w io.Writer, cmd string, err error) {
	var all plan.Errors
	if errors.As(err, &all) {
		for _, line := range strings.Split(all.Error(), "\n") {
			fmt.Fprintln(w, cmd+":", oneLine(line))
		}
		return
	}
	fmt.Fprintln(w, cmd+":", oneLine(err.Error()))
}

func totalDuration(l plan.Load) time.Duration {
	var d time.Duration
	for _, s := range l.Stages {
		d += s.Duration
	}
	return d
}

// runReport is the JSON written by --out.
type runReport struct {
	Plan string `json:"plan"`
	*generator.Result
	SLO         []sloResult         `json:"slo"`
	Findings    []correlate.Finding `json:"findings"`
	Correlation *correlate.Report   `json:"correlation,omitempty"`
}

func writeJSON(f *os.File, p *plan.Plan, res *generator.Result, slos []sloResult, rep *correlate.Report) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	out := runReport{Plan: p.Name, Result: res, SLO: slos, Findings: []correlate.Finding{}, Correlation: rep}
	if rep != nil {
		out.Findings = rep.Findings
	}
	if err := enc.Encode(out); err != nil {
		return err
	}
	return f.Close()
}

// progress prints the live line: redrawn in place once a second on a
// terminal, one line every 5 s otherwise.
type progress struct {
	mu       sync.Mutex // OnSecond and warnings come from different goroutines
	w        io.Writer
	quiet    bool
	terminal bool
	model    string
	total    time.Duration
	start    time.Time
	n        int
	errors   int64
	dropped  int64
	drawn    bool
}

func newProgress(w io.Writer, quiet bool, l plan.Load, total time.Duration) *progress {
	return &progress{w: w, quiet: quiet, terminal: isTerminal(w), model: l.Model, total: total}
}

// second is the OnSecond hook.
func (p *progress) second(s generator.Second) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		p.start = s.Start
	}
	p.n++
	p.errors += s.Total.Errors
	p.dropped += s.Dropped
	if p.quiet || (!p.terminal && p.n%5 != 0) {
		return
	}
	elapsed := s.Start.Add(s.Duration).Sub(p.start).Round(time.Second)
	offered := fmt.Sprintf("%.1f it/s", s.Offered)
	if p.model == "closed" {
		offered = fmt.Sprintf("%.0f VUs", s.Offered)
	}
	line := fmt.Sprintf("%v/%v  offered %s  achieved %.0f it/s %.0f req/s  p95 %s  errors %d  dropped %d  VUs %d",
		elapsed, p.total, offered, s.IterationRate(), s.RequestRate(), fmtMs(s.Total.Latency.P95), p.errors, p.dropped, s.VUs)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// warn prints a warning on a line of its own.
func (p *progress) warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.breakLine()
	fmt.Fprintln(p.w, "headroom run: warning:", msg)
}

// finish ends the live line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.breakLine()
}

func (p *progress) breakLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
