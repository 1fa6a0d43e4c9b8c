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
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// correlateCmd re-runs correlation on a saved run or study and prints the
// top three findings.
func correlateCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headroom correlate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	planPath := fs.String("plan", "", "plan file: SLO p99 and the observe section")
	out := fs.String("out", "", "write the whole report (findings JSON) to this file")
	prom := fs.String("prometheus", "", "Prometheus base URL (overrides observe.prometheus)")
	tempo := fs.String("tempo", "", "Tempo base URL (overrides observe.tempo)")
	jaeger := fs.String("jaeger", "", "Jaeger query base URL, instead of Tempo")
	selector := fs.String("selector", "", `PromQL selector added to every signal, e.g. {job="shop"} (overrides observe.selector)`)
	service := fs.String("service", "", "service name in traces (overrides observe.service)")
	slo := fs.Duration("slo-p99", 0, "p99 SLO (overrides the plan's slo.p99); 0 with no plan: p99 doubling")
	timeout := fs.Duration("timeout", 10*time.Second, "per HTTP call to Prometheus or the trace store")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom correlate [flags] run.json|study.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "headroom correlate: want exactly one run.json or study.json")
		fs.Usage()
		return exitUsage
	}
	if *timeout <= 0 || *slo < 0 {
		fmt.Fprintln(stderr, "headroom correlate: --timeout must be positive and --slo-p99 not negative")
		return exitUsage
	}
	for _, f := range []struct{ flag, raw string }{{"--prometheus", *prom}, {"--tempo", *tempo}, {"--jaeger", *jaeger}} {
		if u, err := url.Parse(f.raw); f.raw != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			fmt.Fprintf(stderr, "headroom correlate: %s: %q is not an http(s) URL\n", f.flag, f.raw)
			return exitUsage
		}
	}
	var p *plan.Plan
	if *planPath != "" {
		var err error
		if p, err = plan.LoadFile(*planPath); err != nil {
			printError(stderr, "headroom correlate", err)
			return exitUsage
		}
	}
	in, saved, err := loadResult(fs.Arg(0), p)
	if err != nil {
		fmt.Fprintf(stderr, "headroom correlate: %v\n", err)
		return exitUsage
	}
	override(&in.Observe.Prometheus, *prom)
	override(&in.Observe.Tempo, *tempo)
	override(&in.Observe.Jaeger, *jaeger)
	override(&in.Observe.Selector, *selector)
	override(&in.Observe.Service, *service)
	if *slo > 0 {
		in.SLOP99Ms = float64(*slo) / float64(time.Millisecond)
	}
	in.Options.Timeout = *timeout
	src := correlate.SourcesFor(in.Observe, *timeout)
	if db := in.Observe.Database; db != nil && db.DSNEnv != "" {
		src.DSN = os.Getenv(db.DSNEnv) // the DSN for EXPLAIN: read here, at the edge, never by correlate
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := correlate.Explain(ctx, in, src)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "headroom correlate: %s: %v\n", fs.Arg(0), err)
		return exitUsage
	}
	if saved.Kind == pipeline.KindStudy && ctx.Err() == nil {
		explainSavedScaling(ctx, &rep, saved.Study, p, in.Observe, src.Metrics)
	}
	printReport(stdout, rep)
	printScaling(stdout, rep)
	if *out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "headroom correlate: --out: %v\n", err)
			return exitFailed
		}
	}
	return exitOK
}

func override(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// loadResult reads a saved run.json or study.json, by its kind, into
// correlation's input; the document too.
func loadResult(path string, p *plan.Plan) (correlate.Input, pipeline.Artifact, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return correlate.Input{}, pipeline.Artifact{}, err
	}
	a, err := pipeline.Decode(data)
	if err != nil {
		return correlate.Input{}, a, fmt.Errorf("%s: %w", path, err)
	}
	if a.Kind == pipeline.KindRun {
		in := correlate.FromRun(*a.Run.Result, p)
		if c := a.Run.Correlation; c != nil {
			in.Kept = c.Traces
		}
		return in, a, nil
	}
	if a.Study.Study == nil {
		return correlate.Input{}, a, fmt.Errorf("%s: the study document holds no study", path)
	}
	in, err := correlate.FromStudy(*a.Study.Study, p)
	if err != nil {
		return correlate.Input{}, a, fmt.Errorf("%s: %w", path, err)
	}
	in.AddUnmeasured(*a.Study.Study, pipeline.StepSeconds(a.Study.Windows))
	// The traces the study kept (typical and slowest, labelled) are read
	// before the trace store, which has long dropped them.
	if c := a.Study.Correlation; c != nil {
		in.Kept = c.Traces
	}
	if in.Observe.Service == "" {
		in.Observe.Service = keptService(in.Kept) // no plan: the service the kept traces are of
	}
	return in, a, nil
}

// keptService is the service of most kept traces' first span, "" for none.
func keptService(kept []correlate.KeptTrace) string {
	n := map[string]int{}
	best := ""
	for _, k := range kept {
		if len(k.Spans) == 0 || k.Spans[0].Service == "" {
			continue
		}
		s := k.Spans[0].Service
		if n[s]++; n[s] > n[best] || (n[s] == n[best] && s < best) {
			best = s
		}
	}
	return best
}

func printReport(w io.Writer, rep correlate.Report) {
	if err := rep.WriteText(w); err != nil {
		fmt.Fprintln(os.Stderr, "headroom: writing the findings:", err)
	}
}
