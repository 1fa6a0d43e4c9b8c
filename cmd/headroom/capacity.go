package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/plan"
)

// capacityCmd is `headroom capacity [flags] plan.yaml`: a whole capacity
// study. It shows progress on stderr, prints a summary on stdout, and
// exits 0 (study complete), 1 (capacity.required_rps not reached, or the
// study could not finish), 2 (bad plan or flags) or 3 (interrupted).
func capacityCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom capacity [--out study.json] [--base-url URL] [--verify-url URL] [--instances N] [--step-duration D] [--quiet] plan.yaml")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "write the study as JSON to this file")
	baseURL := fs.String("base-url", "", "the single instance to study instead of target.base_url; its host must be allowed by the plan")
	verifyURL := fs.String("verify-url", "", "N instances behind a balancer, to verify the prediction (overrides capacity.verify_url)")
	instances := fs.String("instances", "", "extrapolate to this many instances (overrides capacity.instances)")
	stepDuration := fs.String("step-duration", "", "length of each step, e.g. 5s (overrides capacity.step_duration)")
	quiet := fs.Bool("quiet", false, "print no progress")
	noCorrelate := fs.Bool("no-correlate", false, "read nothing from the plan's Prometheus and trace store (no findings, no CPU at the autoscaling threshold)")
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package has said why
	}
	fail := func(err error) int {
		printError(stderr, "headroom capacity", err)
		return exitUsage
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "headroom capacity: want exactly one plan file, got %d\n", len(files))
		fs.Usage()
		return exitUsage
	}
	p, err := plan.LoadFile(files[0])
	if err != nil {
		return fail(err)
	}
	opts, err := capacityOptions(p, *baseURL, *verifyURL, *instances, *stepDuration)
	if err != nil {
		return fail(err)
	}
	if p.Observe.Prometheus != "" && !*noCorrelate { // the CPU an instance shows at the autoscaling threshold
		g, err := correlate.NewCPUGauge(p.Observe, 0)
		if err != nil {
			return fail(err)
		}
		opts.CPU = g
	}
	var outFile *os.File
	if *out != "" { // open it now: a bad --out must not cost a whole study
		if outFile, err = os.Create(*out); err != nil {
			return fail(fmt.Errorf("--out: %w", err))
		}
		defer outFile.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prog := &studyProgress{w: stderr, quiet: *quiet}
	opts.Progress = prog.event
	var keeper *correlate.TraceKeeper // each step's slow traces, fetched before later steps evict them
	if !*noCorrelate {
		keeper = correlate.TraceKeeperFor(p.Observe, 0)
	}
	study, err := capacity.Run(ctx, p, keeper.Prober(capacity.NewProber(p, prog.warn)), opts)
	var planErr *plan.Error
	if errors.As(err, &planErr) && (study == nil || len(study.Steps) == 0) {
		return fail(err)
	}
	if study != nil {
		if werr := study.WriteText(stdout); werr != nil {
			fmt.Fprintln(stderr, "headroom capacity:", werr)
		}
		var findings *correlate.Report
		if !*noCorrelate && ctx.Err() == nil && len(study.Steps) > 0 {
			findings = explainAfter(ctx, p, stdout, stderr, "capacity", func(ctx context.Context) (correlate.Report, error) {
				return correlate.ExplainStudyWith(ctx, *study, p, keeper)
			})
		}
		if outFile != nil {
			if werr := writeStudy(outFile, study, findings); werr != nil {
				fmt.Fprintln(stderr, "headroom capacity: --out:", werr)
				return exitFailed
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "headroom capacity: interrupted; the study above is partial")
		return exitAborted
	case err != nil:
		fmt.Fprintln(stderr, "headroom capacity:", oneLine(err.Error()))
		return exitFailed
	case study.Capacity.RequiredMet != nil && !*study.Capacity.RequiredMet:
		fmt.Fprintf(stderr, "headroom capacity: capacity.required_rps %g not reached (single instance: %.1f req/s)\n",
			study.Capacity.RequiredRPS, study.Capacity.SingleInstanceRPS)
		return exitFailed
	}
	return exitOK
}

// capacityOptions turns the flags into study options, checking each.
func capacityOptions(p *plan.Plan, baseURL, verifyURL, instances, stepDuration string) (capacity.Options, error) {
	var o capacity.Options
	for _, u := range []struct{ flag, raw string }{{"--base-url", baseURL}, {"--verify-url", verifyURL}, {"capacity.verify_url", p.Capacity.VerifyURL}} {
		if u.raw == "" {
			continue
		}
		parsed, err := url.Parse(u.raw)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return o, fmt.Errorf("%s: %q is not an http(s) URL", u.flag, u.raw)
		}
		if !p.Allowed(parsed.Hostname()) {
			return o, fmt.Errorf("%s: host %q is not allowed by the plan (target.allow)", u.flag, parsed.Hostname())
		}
	}
	o.URL, o.VerifyURL = baseURL, verifyURL
	if instances != "" {
		n, err := strconv.Atoi(instances)
		if err != nil || n < 1 {
			return o, fmt.Errorf("--instances: %q is not a whole number ≥ 1", instances)
		}
		o.Instances = n
	}
	if stepDuration != "" {
		d, err := time.ParseDuration(stepDuration)
		if err != nil || d < time.Second {
			return o, fmt.Errorf("--step-duration: %q is not a duration of at least 1s", stepDuration)
		}
		o.StepDuration = d
	}
	return o, nil
}

// writeStudy writes the study, with its findings, as indented JSON and
// closes f.
func writeStudy(f *os.File, s *capacity.Study, rep *correlate.Report) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	out := struct {
		*capacity.Study
		Findings    []correlate.Finding `json:"findings"`
		Correlation *correlate.Report   `json:"correlation,omitempty"`
	}{Study: s, Findings: []correlate.Finding{}, Correlation: rep}
	if rep != nil {
		out.Findings = rep.Findings
	}
	if err := enc.Encode(out); err != nil {
		return err
	}
	return f.Close()
}

// studyProgress prints one line per step as it starts and ends.
type studyProgress struct {
	mu    sync.Mutex // events and generator warnings come from different goroutines
	w     io.Writer
	quiet bool
}

func (p *studyProgress) event(e capacity.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	high := "—"
	if e.High > 0 {
		high = fmt.Sprintf("%.4g", e.High)
	}
	bracket := fmt.Sprintf("bracket [%.4g, %s]", e.Low, high)
	switch {
	case e.Phase == capacity.PhaseCooldown:
		fmt.Fprintf(p.w, "%-9s after step %d at %.4g/s until latency is back at baseline\n", e.Phase, e.Step, e.Rate)
	case e.Verdict == "":
		fmt.Fprintf(p.w, "%-9s step %2d at %.4g/s …  %s\n", e.Phase, e.Step, e.Rate, bracket)
	default:
		why := ""
		if len(e.Reasons) > 0 {
			why = " — " + e.Reasons[0]
		}
		fmt.Fprintf(p.w, "%-9s step %2d at %.4g/s: %s%s  %s\n", e.Phase, e.Step, e.Rate, e.Verdict, why, bracket)
	}
}

func (p *studyProgress) warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, "headroom capacity: warning:", msg)
}
