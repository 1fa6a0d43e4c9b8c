package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// references are the tools whose rows the others are compared with, in
// column order, when they took part.
var references = []string{"wrk", "fortio", "h2load", "vegeta"}

// printTable writes the comparison: one row per tool, then footnotes.
// Each "vs X" column holds the row's requests/s over X's and its CPU per
// request over X's: above 1.00x is faster, and costlier, than X.
func printTable(w io.Writer, cfg config, ms []measurement) error {
	byTool := map[string]measurement{}
	for _, m := range ms {
		byTool[m.Tool] = m
	}
	var refs []string
	for _, r := range references {
		if _, ok := byTool[r]; ok {
			refs = append(refs, r)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "tool\trequests/s\trequests\ttarget count\terrors\tCPU-s/100k req\tpeak RSS MB\tpeak anon MB\t")
	for _, r := range refs {
		fmt.Fprintf(tw, "vs %s rate/CPU\t", r)
	}
	fmt.Fprintln(tw, "tool busy\ttarget busy\tothers gen/target\t")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t",
			m.Tool, m.Report.Throughput, m.Report.Requests, m.Target.Requests, m.Report.Errors,
			cpuPer100k(m), float64(m.Usage.MaxRSSKB)/1024, float64(m.Usage.PeakAnonKB)/1024)
		for _, r := range refs {
			ref := byTool[r]
			fmt.Fprintf(tw, "%s/%s\t", ratio(m.Report.Throughput, ref.Report.Throughput), ratio(cpuPer100k(m), cpuPer100k(ref)))
		}
		fmt.Fprintf(tw, "%.0f%%\t%.0f%%\t%.0f%%/%.0f%%\t\n",
			100*busy(m.Usage.CPU, m.Usage.Wall), 100*busy(m.TargetCPU, m.Usage.Wall),
			100*m.OthersGen, 100*m.OthersTarget)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	target := fmt.Sprintf("bench/target -mode %s", targetMode(cfg))
	if cfg.Proto == protoHTTPS || cfg.Proto == protoH2 {
		target += " -tls"
	}
	fmt.Fprintf(w, "\n%d s per tool, %d connections, load generator on CPU %s, target (%s) on CPU %s, a fresh target per tool.\n",
		cfg.Seconds, cfg.Conns, orAll(cfg.GenCPUs), target, orAll(cfg.TargetCPUs))
	if cfg.Pooled > 1 {
		fmt.Fprintf(w, "Pooled: the %d rounds above, the tools taking turns (each round starts one tool further on), so that a slow spell of the machine falls on all of them;\n"+
			"requests/s is the mean of the rounds', CPU per request all the rounds' CPU over all their requests, peak RSS and anon the largest.\n", cfg.Pooled)
	}
	if cfg.Proto == protoH2 {
		fmt.Fprintf(w, "HTTP/2: h2load and headroom multiplex the %d streams over %d connections; fortio -h2 opens one connection per worker.\n",
			cfg.Conns, min(cfg.H2Conns, cfg.Conns))
	}
	fmt.Fprintln(w, "requests/s and requests: the tool's own report; target count: responses the target wrote;")
	fmt.Fprintln(w, "CPU, peak RSS and tool busy (CPU over wall time): /usr/bin/time -v of the tool; peak RSS counts the executable's")
	fmt.Fprintln(w, "pages mapped from the page cache (most of a large static binary's); peak anon: its largest RssAnon (/proc, every 100 ms), the working memory;")
	fmt.Fprintln(w, "vs X rate/CPU: the row's requests/s over X's, and its CPU per request over X's;")
	fmt.Fprintln(w, "target busy: the target's CPU time over the tool's wall time (near 100%: the target, not the tool, set the pace);")
	fmt.Fprintln(w, "others gen/target: the share of the generator's and the target's CPUs other processes took meanwhile (/proc/stat, softirq left out).")
	for _, m := range ms {
		if n := mismatch(m); n != "" {
			fmt.Fprintf(w, "WARNING %s: %s\n", m.Tool, n)
		}
		if n := contended(m); n != "" {
			fmt.Fprintf(w, "WARNING %s: %s\n", m.Tool, n)
		}
	}
	return nil
}

// printHow lists the commands each tool ran.
func printHow(w io.Writer, tools []tool) {
	for _, t := range tools {
		fmt.Fprintf(w, "  %s: %s\n", t.Name, t.How)
	}
}

func cpuPer100k(m measurement) float64 {
	if m.Report.Requests == 0 {
		return 0
	}
	return m.Usage.CPU.Seconds() / float64(m.Report.Requests) * 1e5
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func busy(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}

func orAll(cpus string) string {
	if cpus == "" {
		return "any (not pinned)"
	}
	return cpus
}

// mismatch says why a tool's request count and the target's disagree, or
// "" when they agree. A tool may count fewer than the target by the
// requests in flight when it stopped (one per connection), and vegeta
// counts failed requests the target never saw; a tool counting more
// successful requests than the target wrote responses is wrong.
func mismatch(m measurement) string {
	tool, target := m.Report.Requests-m.Report.Errors, m.Target.Requests
	slack := max(int64(m.Target.Connections), 1)
	var problems []string
	if tool > target {
		problems = append(problems, fmt.Sprintf("reports %d successful requests but the target wrote only %d responses", tool, target))
	}
	if target-tool > slack+target/100 {
		problems = append(problems, fmt.Sprintf("the target wrote %d responses, %d more than the tool's %d successful requests", target, target-tool, tool))
	}
	return strings.Join(problems, "; ")
}

// contended says when other processes took a noticeable share of the
// generator's or the target's CPU: the row then understates the tool.
func contended(m measurement) string {
	const limit = 0.10
	if m.OthersGen < limit && m.OthersTarget < limit {
		return ""
	}
	return fmt.Sprintf("other processes took %.0f%% of the generator CPU and %.0f%% of the target CPU during this run; "+
		"the row understates the tool, do not compare it", 100*m.OthersGen, 100*m.OthersTarget)
}

// pool sums each tool's rows over rounds into one row: requests, errors,
// CPU, wall time and the target's counts add up, requests/s is the mean of
// the rounds' (every run lasts as long), peak RSS and anon the largest, and the
// other processes' shares the mean.
func pool(rounds [][]measurement) []measurement {
	var out []measurement
	at := map[string]int{}
	n := map[string]int{}
	for _, ms := range rounds {
		for _, m := range ms {
			i, ok := at[m.Tool]
			if !ok {
				i = len(out)
				at[m.Tool] = i
				out = append(out, measurement{Tool: m.Tool})
			}
			p := &out[i]
			n[m.Tool]++
			p.Report.Requests += m.Report.Requests
			p.Report.Throughput += m.Report.Throughput
			p.Report.Errors += m.Report.Errors
			p.Usage.CPU += m.Usage.CPU
			p.Usage.Wall += m.Usage.Wall
			p.Usage.MaxRSSKB = max(p.Usage.MaxRSSKB, m.Usage.MaxRSSKB)
			p.Usage.PeakAnonKB = max(p.Usage.PeakAnonKB, m.Usage.PeakAnonKB)
			p.Usage.Exit = max(p.Usage.Exit, m.Usage.Exit)
			p.Target.Requests += m.Target.Requests
			p.Target.Connections += m.Target.Connections
			p.TargetCPU += m.TargetCPU
			p.OthersGen += m.OthersGen
			p.OthersTarget += m.OthersTarget
		}
	}
	for i := range out {
		k := float64(n[out[i].Tool])
		out[i].Report.Throughput /= k
		out[i].OthersGen /= k
		out[i].OthersTarget /= k
	}
	return out
}
