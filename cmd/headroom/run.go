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

	"github.com/headroom-sre/headroom/pipeline"
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
		fmt.Fprintln(stderr, "usage: headroom run [--out run.json] [--base-url URL] [--baseline OLD.json --max-regression 10%] [--quiet] plan.yaml")
		fs.PrintDefaults()
		printGateRule(stderr)
	}
	out := fs.String("out", "", "write the full result (summary, SLOs, per-second windows) as JSON to this file")
	baseURL := fs.String("base-url", "", "send the load here instead of target.base_url; its host must be allowed by the plan")
	quiet := fs.Bool("quiet", false, "print no live progress line")
	noCorrelate := fs.Bool("no-correlate", false, "skip the findings from the plan's Prometheus and trace store")
	gate := addGateFlags(fs)
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
	baseline, maxRegression, err := gate.load(pipeline.KindRun)
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
	load := runLoad(p)
	prog := newProgress(stderr, *quiet, load, totalDuration(load))
	// The summary is printed as soon as the load has ended and the SLOs
	// are checked (OnMeasured), before the findings are read.
	summarized := false
	summarize := func(r *pipeline.RunResult) {
		prog.finish()
		if werr := r.WriteSummary(stdout); werr != nil {
			fmt.Fprintln(stderr, "headroom run:", werr)
		}
		summarized = true
	}
	res, err := pipeline.Run(ctx, p, pipeline.Settings{BaseURL: *baseURL, NoCorrelate: *noCorrelate}, pipeline.Hooks{
		OnWindow:   prog.second,
		OnPhase:    prog.phase,
		Warn:       prog.warn,
		OnMeasured: summarize,
	})
	if err != nil {
		return fail(flagError(err))
	}
	if !summarized {
		summarize(res)
	}
	printLoop(stdout, res)
	if res.Correlation != nil {
		printFindings(stdout, *res.Correlation)
	}
	if outFile != nil {
		if err := writeDocument(outFile, res); err != nil {
			fmt.Fprintln(stderr, "headroom run: --out:", err)
			return exitFailed
		}
	}
	code := exitCode(res.Outcome)
	if baseline != nil && (code == exitOK || code == exitFailed) {
		failed, err := gate.check(stdout, baseline, pipeline.Artifact{Kind: pipeline.KindRun, Run: res}, maxRegression)
		if err != nil {
			fmt.Fprintln(stderr, "headroom run: --baseline:", err)
			return exitFailed
		}
		if failed {
			code = exitFailed
		}
	}
	return code
}

// exitCode is the process exit code of an outcome.
func exitCode(o pipeline.Outcome) int {
	switch o {
	case pipeline.Passed:
		return exitOK
	case pipeline.Failed:
		return exitFailed
	}
	return exitAborted // aborted by the plan's rules, or interrupted
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
	if joined, ok := err.(interface{ Unwrap() []error }); ok && !isPlanErrors(err) {
		for _, e := range joined.Unwrap() {
			printError(w, cmd, e)
		}
		return
	}
	var all plan.Errors
	if errors.As(err, &all) {
		for _, line := range strings.Split(all.Error(), "\n") {
			fmt.Fprintln(w, cmd+":", oneLine(line))
		}
		return
	}
	fmt.Fprintln(w, cmd+":", oneLine(err.Error()))
}

func isPlanErrors(err error) bool {
	_, ok := err.(plan.Errors)
	return ok
}

func totalDuration(l plan.Load) time.Duration {
	var d time.Duration
	for _, s := range l.Stages {
		d += s.Duration
	}
	return d
}

// writeDocument writes a run.json or study.json as indented JSON and
// closes f.
func writeDocument(f *os.File, doc any) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
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
	model    plan.Model
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

// second is the OnWindow hook.
func (p *progress) second(s pipeline.Window) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		p.start = s.Start
	}
	p.n++
	p.errors += s.Errors
	p.dropped += s.Dropped
	if p.quiet || (!p.terminal && p.n%5 != 0) {
		return
	}
	elapsed := s.Start.Add(time.Duration(s.DurationS * float64(time.Second))).Sub(p.start).Round(time.Second)
	offered := fmt.Sprintf("%.1f it/s", s.Offered)
	if p.model == plan.ModelClosed {
		offered = fmt.Sprintf("%.0f VUs", s.Offered)
	}
	line := fmt.Sprintf("%v/%v  offered %s  achieved %.0f it/s %.0f req/s  p95 %s  errors %d  dropped %d  VUs %d",
		elapsed, p.total, offered, perSecond(s.Iterations, s.DurationS), perSecond(s.Requests, s.DurationS), fmtMs(s.Latency.P95), p.errors, p.dropped, s.VUs)
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

// phase is the OnPhase hook: before the findings are read, it says so.
func (p *progress) phase(name string) {
	if name != pipeline.PhaseCorrelate {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.breakLine()
	if !p.quiet {
		fmt.Fprintln(p.w, "headroom run: reading the findings from the plan's Prometheus and trace store …")
	}
}

func perSecond(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
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
