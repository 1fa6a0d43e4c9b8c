// Command compare drives bench/target at maximum rate with wrk, vegeta and
// headroom in turn, for the same duration over the same number of
// connections, the generator pinned to one CPU and the target to another,
// and prints one table: each tool's requests/s from its own report, the
// target's own count beside it, CPU-seconds per 100k requests and peak RSS
// measured with /usr/bin/time -v, and headroom's rate against the others.
//
// `make bench` builds the tools and runs it; see scripts/bench.sh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// config is one comparison's settings, from the flags.
type config struct {
	Seconds    int    // per tool
	Conns      int    // connections (wrk), workers (vegeta), virtual users (headroom)
	Port       int    // the target's loopback port
	GenCPUs    string // taskset CPU list for the tools; "" = not pinned
	TargetCPUs string // taskset CPU list for the target; "" = not pinned
	TargetMode string // bench/target -mode
	Tools      []string
	Repeat     int

	Wrk, Vegeta, Headroom, Target string // executables
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 2
	}
	work, err := os.MkdirTemp("", "headroom-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	defer os.RemoveAll(work)

	var tools []tool
	for _, name := range cfg.Tools {
		t, err := buildTool(name, cfg, work)
		if err != nil {
			fmt.Fprintf(stderr, "compare: %v\n", err)
			return 2
		}
		tools = append(tools, t)
	}
	for round := 1; round <= cfg.Repeat; round++ {
		fmt.Fprintf(stdout, "\n== round %d of %d (load average before: %s)\n", round, cfg.Repeat, loadAverage())
		var ms []measurement
		for _, t := range tools {
			fmt.Fprintf(stderr, "compare: %s, %d s ...\n", t.Name, cfg.Seconds)
			m, err := measure(ctx, cfg, t, work)
			if err != nil {
				fmt.Fprintf(stderr, "compare: %v\n", err)
				return 1
			}
			ms = append(ms, m)
		}
		if err := printTable(stdout, cfg, ms); err != nil {
			fmt.Fprintf(stderr, "compare: %v\n", err)
			return 1
		}
	}
	fmt.Fprintln(stdout, "commands:")
	printHow(stdout, tools)
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var tools string
	fs.IntVar(&cfg.Seconds, "seconds", 30, "how long each tool runs")
	fs.IntVar(&cfg.Conns, "conns", 64, "connections / workers / virtual users of every tool")
	fs.IntVar(&cfg.Port, "port", 18999, "loopback port of the target")
	fs.StringVar(&cfg.GenCPUs, "gen-cpus", "0", "taskset CPU list for the load tools (\"\" = no pinning)")
	fs.StringVar(&cfg.TargetCPUs, "target-cpus", "1", "taskset CPU list for the target (\"\" = no pinning)")
	fs.StringVar(&cfg.TargetMode, "target-mode", "epoll", "bench/target -mode: epoll, raw or nethttp")
	fs.StringVar(&tools, "tools", strings.Join(knownTools, ","), "comma-separated tools to compare, in order")
	fs.IntVar(&cfg.Repeat, "repeat", 1, "how many times to run the whole comparison")
	fs.StringVar(&cfg.Wrk, "wrk", "wrk", "wrk executable")
	fs.StringVar(&cfg.Vegeta, "vegeta", ".cache/tools/vegeta", "vegeta executable")
	fs.StringVar(&cfg.Headroom, "headroom", "bin/headroom", "headroom executable")
	fs.StringVar(&cfg.Target, "target", "bin/bench-target", "bench/target executable")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.Tools = splitList(tools)
	return cfg, cfg.check()
}

// check validates the settings and resolves the executables.
func (c *config) check() error {
	switch {
	case c.Seconds < 1 || c.Seconds > 3600:
		return fmt.Errorf("-seconds: %d is outside 1..3600", c.Seconds)
	case c.Conns < 1 || c.Conns > 10000:
		return fmt.Errorf("-conns: %d is outside 1..10000", c.Conns)
	case c.Port < 1024 || c.Port > 65535:
		return fmt.Errorf("-port: %d is outside 1024..65535", c.Port)
	case c.Repeat < 1 || c.Repeat > 10:
		return fmt.Errorf("-repeat: %d is outside 1..10", c.Repeat)
	case c.TargetMode != "epoll" && c.TargetMode != "raw" && c.TargetMode != "nethttp":
		return fmt.Errorf("-target-mode: %q is not epoll, raw or nethttp", c.TargetMode)
	case len(c.Tools) == 0:
		return errors.New("-tools: no tool named")
	}
	for flagName, cpus := range map[string]string{"gen-cpus": c.GenCPUs, "target-cpus": c.TargetCPUs} {
		if _, err := sampleCPUs(cpus); err != nil {
			return fmt.Errorf("-%s: %w", flagName, err)
		}
	}
	type executable struct {
		flag string
		path *string
	}
	var need []executable
	for _, name := range c.Tools {
		switch name {
		case "wrk":
			need = append(need, executable{"wrk", &c.Wrk})
		case "vegeta":
			need = append(need, executable{"vegeta", &c.Vegeta})
		case "headroom":
			need = append(need, executable{"headroom", &c.Headroom})
		default:
			return fmt.Errorf("-tools: unknown tool %q (known: %s)", name, strings.Join(knownTools, ", "))
		}
	}
	need = append(need, executable{"target", &c.Target})
	for _, e := range need {
		resolved, err := exec.LookPath(*e.path)
		if err != nil {
			return fmt.Errorf("-%s: %w", e.flag, err)
		}
		*e.path = resolved
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		return fmt.Errorf("/usr/bin/time (Debian package time) is needed: %w", err)
	}
	if (c.GenCPUs != "" || c.TargetCPUs != "") && !hasCommand("taskset") {
		return errors.New("taskset (Debian package util-linux) is needed to pin CPUs; or pass -gen-cpus= -target-cpus=")
	}
	return nil
}

func hasCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// loadAverage is /proc/loadavg's first three figures, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
