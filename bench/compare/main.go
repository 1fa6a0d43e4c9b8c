// Command compare drives bench/target at maximum rate with wrk, fortio,
// h2load, vegeta and headroom in turn, over plain HTTP/1.1, HTTPS and
// HTTP/2 (one table each; a tool appears where it speaks the protocol), for the same duration over the same number of
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
	"slices"
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
	TargetMode string // bench/target -mode for plain HTTP
	Tools      []string
	Protos     []string // http, https, h2: one table each
	H2Conns    int      // HTTP/2 connections (h2load -c, headroom's max_conns); the streams share them
	Repeat     int

	Proto  string // the protocol being measured (set per table)
	Pooled int    // >1: the table pools this many rounds (set for the summary)

	Wrk, Fortio, H2load, Vegeta, Headroom, Target string // executables
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

	how := map[string][]tool{}          // per protocol, for the footnote
	all := map[string][][]measurement{} // per protocol, every round's rows
	for round := 1; round <= cfg.Repeat; round++ {
		for _, proto := range cfg.Protos {
			pcfg := cfg
			pcfg.Proto = proto
			names := toolsFor(cfg, proto)
			if len(names) == 0 {
				continue
			}
			fmt.Fprintf(stdout, "\n== round %d of %d, %s (load average before: %s)\n", round, cfg.Repeat, protoTitle[proto], loadAverage())
			ms := make([]measurement, len(names))
			tools := make([]tool, len(names))
			for _, i := range runOrder(len(names), round) {
				t, err := buildTool(names[i], pcfg, work)
				if err != nil {
					fmt.Fprintf(stderr, "compare: %v\n", err)
					return 2
				}
				tools[i] = t
				fmt.Fprintf(stderr, "compare: %s %s, %d s ...\n", proto, t.Name, cfg.Seconds)
				m, err := measure(ctx, pcfg, t, work)
				if err != nil {
					fmt.Fprintf(stderr, "compare: %v\n", err)
					return 1
				}
				ms[i] = m
			}
			how[proto] = tools
			all[proto] = append(all[proto], ms)
			if err := printTable(stdout, pcfg, ms); err != nil {
				fmt.Fprintf(stderr, "compare: %v\n", err)
				return 1
			}
		}
	}
	if cfg.Repeat > 1 {
		for _, proto := range cfg.Protos {
			if len(all[proto]) < 2 {
				continue
			}
			pcfg := cfg
			pcfg.Proto, pcfg.Pooled = proto, len(all[proto])
			fmt.Fprintf(stdout, "\n== all %d rounds pooled, %s\n", pcfg.Pooled, protoTitle[proto])
			if err := printTable(stdout, pcfg, pool(all[proto])); err != nil {
				fmt.Fprintf(stderr, "compare: %v\n", err)
				return 1
			}
		}
	}
	fmt.Fprintln(stdout, "\ncommands:")
	for _, proto := range cfg.Protos {
		if len(how[proto]) > 0 {
			fmt.Fprintf(stdout, " %s\n", protoTitle[proto])
			printHow(stdout, how[proto])
		}
	}
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
	var protos string
	fs.StringVar(&tools, "tools", strings.Join(knownTools, ","), "comma-separated tools to compare, in order")
	fs.StringVar(&protos, "protos", strings.Join(knownProtos, ","), "comma-separated protocols, one table each: http, https, h2")
	fs.IntVar(&cfg.H2Conns, "h2-conns", 4, "HTTP/2 connections the -conns streams share (h2load -c, headroom's target.max_conns)")
	fs.IntVar(&cfg.Repeat, "repeat", 1, "how many times to run the whole comparison")
	fs.StringVar(&cfg.Wrk, "wrk", "wrk", "wrk executable")
	fs.StringVar(&cfg.Fortio, "fortio", ".cache/tools/fortio", "fortio executable")
	fs.StringVar(&cfg.H2load, "h2load", "h2load", "h2load executable (Debian nghttp2-client)")
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
	cfg.Protos = splitList(protos)
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
	case len(c.Protos) == 0:
		return errors.New("-protos: no protocol named")
	case c.H2Conns < 1 || c.H2Conns > 1000:
		return fmt.Errorf("-h2-conns: %d is outside 1..1000", c.H2Conns)
	}
	for _, p := range c.Protos {
		if !slices.Contains(knownProtos, p) {
			return fmt.Errorf("-protos: unknown protocol %q (known: %s)", p, strings.Join(knownProtos, ", "))
		}
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
		used := false
		for _, p := range c.Protos {
			used = used || slices.Contains(speaks[name], p)
		}
		switch {
		case speaks[name] == nil:
			return fmt.Errorf("-tools: unknown tool %q (known: %s)", name, strings.Join(knownTools, ", "))
		case !used:
			continue
		}
		switch name {
		case "fortio":
			need = append(need, executable{"fortio", &c.Fortio})
		case "h2load":
			need = append(need, executable{"h2load", &c.H2load})
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

// runOrder is the order the n tools run in a round: the first round as
// listed, each later one starting one tool further on, so that no tool
// always runs first or last (after the same neighbour, on a machine that
// drifts). The tables keep the listed order.
func runOrder(n, round int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = (i + round - 1) % n
	}
	return out
}
