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
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/headroom-sre/headroom/derive"
	"github.com/headroom-sre/headroom/plan"
)

// planCmd is `headroom plan <subcommand>`: plans grounded in production.
func planCmd(args []string, stdout, stderr io.Writer) int {
	subs := map[string]command{
		"from-logs":       {"derive a plan from access logs (nginx/Apache combined, JSON lines)", planFromLogsCmd},
		"check":           {"compare a plan's mix and rates with access logs, warn where they part", planCheckCmd},
		"from-openapi":    {"a skeleton plan from an OpenAPI 3 document: one journey per operation", planFromOpenAPICmd},
		"from-prometheus": {"derive the mix, rates and business figures from a service's request counters", planFromPrometheusCmd},
		"from-har":        {"turn a HAR 1.2 recording into a plan of its journey (extractions, think times)", planFromHARCmd},
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		planUsage(stderr, subs)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "headroom plan: unknown subcommand %q\n", args[0])
		planUsage(stderr, subs)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func planUsage(w io.Writer, subs map[string]command) {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: headroom plan <subcommand> [flags] [args]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, subs[n].summary)
	}
}

// logFlags are the flags that say how to read access logs.
type logFlags struct {
	format, fTime, fMethod, fPath, fStatus, fAddr, fAgent, fSession *string
	gap                                                             *time.Duration
	maxBad                                                          *int64
	quiet                                                           *bool
}

func addLogFlags(fs *flag.FlagSet) *logFlags {
	d := derive.DefaultFields
	return &logFlags{
		format:   fs.String("format", "auto", "log format: combined (nginx/Apache), json (one object a line) or auto"),
		fTime:    fs.String("field-time", d.Time, "JSON lines: the time field (RFC 3339, Unix seconds, or 02/Jan/2006:15:04:05 -0700)"),
		fMethod:  fs.String("field-method", d.Method, "JSON lines: the method field (empty when --field-path holds the whole request line)"),
		fPath:    fs.String("field-path", d.Path, "JSON lines: the path field (path and query, or \"GET /x HTTP/1.1\")"),
		fStatus:  fs.String("field-status", d.Status, "JSON lines: the status field"),
		fAddr:    fs.String("field-addr", d.Addr, "JSON lines: the client address field"),
		fAgent:   fs.String("field-agent", d.Agent, "JSON lines: the User-Agent field"),
		fSession: fs.String("field-session", "", "JSON lines: a session key field (cookie, user id, token); default: address + agent"),
		gap:      fs.Duration("gap", 30*time.Minute, "a client's pause longer than this starts a new session"),
		maxBad:   fs.Int64("max-bad-lines", 0, "skip up to this many unreadable lines (0: the first is an error)"),
		quiet:    fs.Bool("quiet", false, "print no progress line"),
	}
}

func (f *logFlags) options(stderr io.Writer) (derive.LogOptions, error) {
	format := derive.Format(*f.format)
	switch format {
	case derive.FormatAuto, derive.FormatCombined, derive.FormatJSON:
	default:
		return derive.LogOptions{}, fmt.Errorf("--format %q: want combined, json or auto", *f.format)
	}
	if *f.gap <= 0 {
		return derive.LogOptions{}, fmt.Errorf("--gap %v: want a positive duration", *f.gap)
	}
	o := derive.LogOptions{
		Format: format,
		Fields: derive.Fields{Time: *f.fTime, Method: *f.fMethod, Path: *f.fPath, Status: *f.fStatus,
			Addr: *f.fAddr, Agent: *f.fAgent, Session: *f.fSession},
		Gap: *f.gap, MaxBadLines: *f.maxBad,
	}
	if !*f.quiet {
		o.Progress = func(p derive.Progress) {
			rate := float64(p.Lines) / max(p.Took.Seconds(), 1e-9)
			end := "\r"
			if p.Done {
				end = "\n"
				if rss := peakRSS(); rss > 0 {
					end = fmt.Sprintf(", peak RSS %.0f MiB\n", float64(rss)/(1<<20))
				}
			}
			fmt.Fprintf(stderr, "\r%s: %d lines, %.1f MiB, %.0f lines/s%s", p.File, p.Lines, float64(p.Bytes)/(1<<20), rate, end)
		}
	}
	return o, nil
}

// planFromLogsCmd is `headroom plan from-logs [flags] FILE…`.
func planFromLogsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan from-logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom plan from-logs [--out plan.yaml] [--base-url URL] [--format combined|json] [--gap 30m] FILE…")
		fs.PrintDefaults()
	}
	lf := addLogFlags(fs)
	out := fs.String("out", "", "write the plan here instead of stdout")
	name := fs.String("name", "derived", "the plan's name")
	baseURL := fs.String("base-url", "", "the plan's target.base_url (default a placeholder)")
	coverage := fs.Float64("coverage", 0.9, "keep the most frequent journeys until they cover this share of sessions")
	maxJourneys := fs.Int("journeys", 8, "keep at most this many journeys")
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "headroom plan from-logs: want one or more log files")
		fs.Usage()
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "headroom plan from-logs: %v\n", err)
		return exitUsage
	}
	if *coverage <= 0 || *coverage > 1 {
		return fail(fmt.Errorf("--coverage %v: want a share in (0, 1]", *coverage))
	}
	opts, err := lf.options(stderr)
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prof, err := derive.ReadLogFiles(ctx, files, opts)
	if err != nil {
		return fail(err)
	}
	var buf bytes.Buffer
	popts := derive.PlanOptions{Name: *name, BaseURL: *baseURL, Coverage: *coverage, MaxJourneys: *maxJourneys,
		Command: "headroom plan from-logs " + strings.Join(args, " ")}
	if err := derive.WritePlan(&buf, prof, popts); err != nil {
		return fail(err)
	}
	return writePlanOut(buf.Bytes(), *out, stdout, stderr, "headroom plan from-logs")
}

// oneFileArg parses fs's flags among args and wants exactly one file
// argument; when it does not get one it returns the exit code (help: 0,
// else a usage error, said on stderr) and false.
func oneFileArg(fs *flag.FlagSet, args []string, stderr io.Writer, cmd, what string) ([]string, int, bool) {
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, exitOK, false
	}
	if err != nil {
		return nil, exitUsage, false
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one %s\n", cmd, what)
		fs.Usage()
		return nil, exitUsage, false
	}
	return files, exitOK, true
}

// planFromHARCmd is `headroom plan from-har [flags] FILE.har`.
func planFromHARCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan from-har", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom plan from-har [--out plan.yaml] [--base-url URL] [--host HOST] FILE.har")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "write the plan here instead of stdout")
	name := fs.String("name", "recorded", "the plan's name")
	baseURL := fs.String("base-url", "", "the plan's target.base_url (default the recording's origin)")
	host := fs.String("host", "", "keep the requests to this host (default the first that is not a static asset)")
	files, code, ok := oneFileArg(fs, args, stderr, "headroom plan from-har", "HAR file")
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "headroom plan from-har: %s: %v\n", files[0], err)
		return exitUsage
	}
	f, err := os.Open(files[0])
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	h, err := derive.ReadHAR(f)
	if err != nil {
		return fail(err)
	}
	var buf bytes.Buffer
	if err := derive.FromHAR(&buf, h, derive.HAROptions{Name: *name, BaseURL: *baseURL, Host: *host,
		Command: "headroom plan from-har " + strings.Join(args, " ")}); err != nil {
		return fail(err)
	}
	return writePlanOut(buf.Bytes(), *out, stdout, stderr, "headroom plan from-har")
}

// planFromOpenAPICmd is `headroom plan from-openapi [flags] openapi.yaml`.
func planFromOpenAPICmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan from-openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom plan from-openapi [--out plan.yaml] [--base-url URL] openapi.yaml|json")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "write the plan here instead of stdout")
	name := fs.String("name", "", "the plan's name (default the document's title)")
	baseURL := fs.String("base-url", "", "the plan's target.base_url (default the document's first absolute server)")
	files, code, ok := oneFileArg(fs, args, stderr, "headroom plan from-openapi", "OpenAPI document")
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "headroom plan from-openapi: %s: %v\n", files[0], err)
		return exitUsage
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return fail(err)
	}
	doc, err := derive.LoadOpenAPI(context.Background(), data)
	if err != nil {
		return fail(err)
	}
	var buf bytes.Buffer
	if err := derive.FromOpenAPI(&buf, doc, derive.OpenAPIOptions{Name: *name, BaseURL: *baseURL,
		Command: "headroom plan from-openapi " + strings.Join(args, " ")}); err != nil {
		return fail(err)
	}
	return writePlanOut(buf.Bytes(), *out, stdout, stderr, "headroom plan from-openapi")
}

// planFromPrometheusCmd is `headroom plan from-prometheus --prometheus URL
// --selector '{job="shop"}' --range 7d`.
func planFromPrometheusCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan from-prometheus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom plan from-prometheus --prometheus URL [--selector '{job=\"shop\"}'] [--range 7d] [--metric NAME] [--route LABEL] [--method LABEL] [--out plan.yaml]")
		fs.PrintDefaults()
	}
	url := fs.String("prometheus", "", "Prometheus base URL (required)")
	sel := fs.String("selector", "", "label matchers of the service's series, e.g. '{job=\"shop\"}'")
	metric := fs.String("metric", "http_request_duration_seconds_count", "a counter of requests with a route label")
	route := fs.String("route", "route", "the route label")
	method := fs.String("method", "", "the method label (empty when the route label reads \"GET /path\")")
	rng := fs.String("range", "7d", "how far back from now (Prometheus durations: 30m, 24h, 7d)")
	step := fs.Duration("step", 0, "resolution of the rate series (default range/500, at least a minute)")
	scrape := fs.Duration("scrape-interval", 15*time.Second, "the scrape interval (the rate window is at least 4 of them)")
	rpupm := fs.Float64("requests-per-user-per-minute", 0, "business: a user's requests a minute, to state active users (default 2, marked a placeholder)")
	out := fs.String("out", "", "write the plan here instead of stdout")
	name := fs.String("name", "derived-from-prometheus", "the plan's name")
	baseURL := fs.String("base-url", "", "the plan's target.base_url (default a placeholder)")
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "headroom plan from-prometheus: %v\n", err)
		return exitUsage
	}
	if len(files) != 0 {
		return fail(fmt.Errorf("unexpected arguments %q", files))
	}
	d, err := model.ParseDuration(*rng)
	if err != nil || d <= 0 {
		return fail(fmt.Errorf("--range %q: want a duration such as 30m, 24h or 7d", *rng))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	prof, err := derive.FromPrometheus(ctx, derive.PromOptions{URL: *url, Selector: *sel, Metric: *metric, Route: *route,
		Method: *method, Range: time.Duration(d), Step: *step, Scrape: *scrape})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "mix:  %s\nrate: %s\n", prof.MixQuery, prof.RateQuery)
	var buf bytes.Buffer
	if err := derive.WritePromPlan(&buf, prof, derive.PromPlanOptions{Name: *name, BaseURL: *baseURL, RequestsPerUserPerMinute: *rpupm,
		Command: "headroom plan from-prometheus " + strings.Join(args, " ")}); err != nil {
		return fail(err)
	}
	return writePlanOut(buf.Bytes(), *out, stdout, stderr, "headroom plan from-prometheus")
}

// writePlanOut validates a derived plan and writes it to path or stdout.
func writePlanOut(data []byte, path string, stdout, stderr io.Writer, cmd string) int {
	if _, err := plan.Parse(path, data); err != nil {
		// a derived plan that does not validate is our bug; show both
		fmt.Fprintf(stderr, "%s: the derived plan does not validate (please report this):\n", cmd)
		printError(stderr, cmd, err)
		stdout.Write(data)
		return exitFailed
	}
	if path == "" {
		stdout.Write(data)
		return exitOK
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Fprintf(stderr, "%s: --out: %v\n", cmd, err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: wrote %s\n", cmd, path)
	return exitOK
}

// planCheckCmd is `headroom plan check plan.yaml --logs FILE…`.
func planCheckCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom plan check [--points 5] plan.yaml --logs FILE [--logs FILE…]")
		fs.PrintDefaults()
	}
	var logs multiFlag
	fs.Var(&logs, "logs", "an access log to compare with (repeatable)")
	lf := addLogFlags(fs)
	points := fs.Float64("points", 5, "warn when a route's share differs by more than this many percentage points")
	minShare := fs.Float64("min-share", 1, "warn when a production route with at least this percentage of requests is missing from the plan")
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(files) != 1 || len(logs) == 0 {
		fmt.Fprintln(stderr, "headroom plan check: want one plan file and at least one --logs FILE")
		fs.Usage()
		return exitUsage
	}
	p, err := plan.LoadFile(files[0])
	if err != nil {
		printError(stderr, "headroom plan check", err)
		return exitUsage
	}
	opts, err := lf.options(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "headroom plan check: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prof, err := derive.ReadLogFiles(ctx, logs, opts)
	if err != nil {
		fmt.Fprintf(stderr, "headroom plan check: %v\n", err)
		return exitUsage
	}
	c := derive.Check(p, prof, derive.CheckOptions{Points: *points, MinShare: *minShare / 100})
	c.WriteText(stdout, prof)
	if len(c.Warnings) > 0 {
		return exitFailed
	}
	return exitOK
}

// peakRSS is the process's peak resident memory in bytes (Linux's VmHWM);
// 0 where it cannot be read.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
