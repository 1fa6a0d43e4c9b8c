package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/pipeline"
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
		fmt.Fprintln(stderr, "usage: headroom capacity [--out study.json] [--base-url URL] [--verify-url URL] [--instances N] [--step-duration D] [--baseline OLD.json --max-regression 10%] [--profiles-dir DIR] [--quiet] plan.yaml")
		fs.PrintDefaults()
		printGateRule(stderr)
	}
	out := fs.String("out", "", "write the study as JSON to this file")
	baseURL := fs.String("base-url", "", "the single instance to study instead of target.base_url; its host must be allowed by the plan")
	verifyURL := fs.String("verify-url", "", "N instances behind a balancer, to verify the prediction (overrides capacity.verify_url)")
	instances := fs.String("instances", "", "extrapolate to this many instances (overrides capacity.instances)")
	stepDuration := fs.String("step-duration", "", "length of each step, e.g. 5s (overrides capacity.step_duration)")
	quiet := fs.Bool("quiet", false, "print no progress")
	noCorrelate := fs.Bool("no-correlate", false, "read nothing from the plan's Prometheus and trace store (no findings, no CPU at the autoscaling threshold)")
	profDir := fs.String("profiles-dir", "", "write the profiles observe.pprof gives here (default: beside --out, study.json → study-profiles/)")
	gate := addGateFlags(fs)
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
	settings, err := capacitySettings(*baseURL, *verifyURL, *instances, *stepDuration)
	if err != nil {
		return fail(err)
	}
	settings.NoCorrelate = *noCorrelate
	baseline, maxRegression, err := gate.load(pipeline.KindStudy)
	if err != nil {
		return fail(err)
	}
	var outFile *os.File
	if *out != "" { // open it now: a bad --out must not cost a whole study
		if outFile, err = os.Create(*out); err != nil {
			return fail(fmt.Errorf("--out: %w", err))
		}
		defer outFile.Close()
	}
	// The profiles go beside the document; their folder is made now, so a
	// bad one fails before the study.
	var keeper *profileKeeper
	switch {
	case *profDir != "" && (p.Observe.Pprof == "" || *noCorrelate):
		return fail(fmt.Errorf("--profiles-dir: no profiles to keep: the plan names no observe.pprof, or --no-correlate"))
	case p.Observe.Pprof != "" && !*noCorrelate:
		keeper = &profileKeeper{}
		if *profDir == "" && *out != "" {
			*profDir = profilesDir(*out)
		}
		if *profDir != "" {
			if err := os.MkdirAll(*profDir, 0o755); err != nil {
				return fail(fmt.Errorf("--profiles-dir: %w", err))
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prog := &studyProgress{w: stderr, quiet: *quiet}
	// The study's text is printed as soon as its load has ended
	// (OnStudyMeasured), before the findings are read.
	summarized := false
	summarize := func(r *pipeline.StudyResult) {
		if werr := r.WriteText(stdout); werr != nil {
			fmt.Fprintln(stderr, "headroom capacity:", werr)
		}
		summarized = true
	}
	hooks := pipeline.Hooks{OnEvent: prog.event, OnPhase: prog.phase, Warn: prog.warn, OnStudyMeasured: summarize}
	if keeper != nil {
		hooks.OnProfile = keeper.add
	}
	res, err := pipeline.Study(ctx, p, settings, hooks)
	if res == nil {
		return fail(flagError(err))
	}
	if !summarized {
		summarize(res)
	}
	if res.Correlation != nil {
		printFindings(stdout, *res.Correlation)
	}
	var profErr error
	if keeper != nil {
		if n := len(keeper.all()); *profDir == "" && n > 0 {
			fmt.Fprintf(stderr, "headroom capacity: %d profiles fetched and not kept: pass --out study.json (they go to study-profiles/) or --profiles-dir DIR\n", n)
		} else if *profDir != "" {
			docDir := *profDir
			if *out != "" {
				docDir = filepath.Dir(*out)
			}
			files, werr := keeper.write(*profDir, docDir)
			if werr != nil {
				fmt.Fprintln(stderr, "headroom capacity: --profiles-dir:", werr)
				profErr = werr
			}
			res.Profiles = files
			printProfiles(stdout, *profDir, files)
		}
	}
	if outFile != nil {
		if werr := writeDocument(outFile, res); werr != nil {
			fmt.Fprintln(stderr, "headroom capacity: --out:", werr)
			return exitFailed
		}
	}
	if profErr != nil {
		return exitFailed
	}
	switch {
	case res.Outcome == pipeline.Cancelled:
		fmt.Fprintln(stderr, "headroom capacity: interrupted; the study above is partial")
		return exitAborted
	case err != nil:
		fmt.Fprintln(stderr, "headroom capacity:", oneLine(err.Error()))
		return exitFailed
	case res.Capacity.RequiredMet != nil && !*res.Capacity.RequiredMet:
		fmt.Fprintf(stderr, "headroom capacity: capacity.required_rps %g not reached (single instance: %.1f req/s)\n",
			res.Capacity.RequiredRPS, res.Capacity.SingleInstanceRPS)
		return exitFailed
	}
	if baseline != nil {
		failed, err := gate.check(stdout, baseline, pipeline.Artifact{Kind: pipeline.KindStudy, Study: res}, maxRegression)
		if err != nil {
			fmt.Fprintln(stderr, "headroom capacity: --baseline:", err)
			return exitFailed
		}
		if failed {
			return exitFailed
		}
	}
	return exitCode(res.Outcome)
}

// capacitySettings turns the flags into study settings, checking what the
// flags alone can tell (the pipeline checks hosts against the plan).
func capacitySettings(baseURL, verifyURL, instances, stepDuration string) (pipeline.Settings, error) {
	s := pipeline.Settings{BaseURL: baseURL, VerifyURL: verifyURL}
	if instances != "" {
		n, err := strconv.Atoi(instances)
		if err != nil || n < 1 {
			return s, fmt.Errorf("--instances: %q is not a whole number ≥ 1", instances)
		}
		s.Instances = n
	}
	if stepDuration != "" {
		d, err := time.ParseDuration(stepDuration)
		if err != nil || d < time.Second {
			return s, fmt.Errorf("--step-duration: %q is not a duration of at least 1s", stepDuration)
		}
		s.StepDuration = d
	}
	return s, nil
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

// phase says, before the findings are read, that they are.
func (p *studyProgress) phase(name string) {
	if name != pipeline.PhaseCorrelate || p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, "headroom capacity: reading the findings from the plan's Prometheus and trace store …")
}

func (p *studyProgress) warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, "headroom capacity: warning:", msg)
}
