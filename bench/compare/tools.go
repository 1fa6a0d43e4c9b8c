package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tool is one load generator under comparison: how to run it at maximum
// rate and how to read its own report.
type tool struct {
	Name       string
	Args       []string // the command, run pinned and under /usr/bin/time -v
	ReportFile string   // where the report is; "" for the tool's stdout
	Parse      func([]byte) (report, error)
	How        string // the command as the table's footnote shows it
}

// knownTools are the names -tools accepts, in table order.
var knownTools = []string{"wrk", "vegeta", "headroom"}

// buildTool prepares the named tool for one run, writing any input files it
// needs into work.
func buildTool(name string, cfg config, work string) (tool, error) {
	url := fmt.Sprintf("http://127.0.0.1:%d/", cfg.Port)
	dur := fmt.Sprintf("%ds", cfg.Seconds)
	switch name {
	case "wrk":
		args := []string{cfg.Wrk, "-t1", fmt.Sprintf("-c%d", cfg.Conns), "-d" + dur, "--timeout", "10s", url}
		return tool{Name: name, Args: args, Parse: parseWrk, How: strings.Join(args, " ")}, nil

	case "vegeta":
		targets := filepath.Join(work, "vegeta-targets.txt")
		if err := os.WriteFile(targets, []byte("GET "+url+"\n"), 0o644); err != nil {
			return tool{}, err
		}
		attack := fmt.Sprintf("%s attack -targets=%s -rate=0 -workers=%d -max-workers=%d -duration=%s -timeout=10s",
			shellQuote(cfg.Vegeta), shellQuote(targets), cfg.Conns, cfg.Conns, dur)
		pipeline := attack + " | " + shellQuote(cfg.Vegeta) + " report -type=json"
		return tool{
			Name:  name,
			Args:  []string{"bash", "-o", "pipefail", "-c", pipeline},
			Parse: parseVegeta,
			How: fmt.Sprintf("vegeta attack -rate=0 -workers=%d -max-workers=%d -duration=%s | vegeta report, "+
				"both processes on the generator core; CPU is their sum, RSS the larger of the two", cfg.Conns, cfg.Conns, dur),
		}, nil

	case "headroom":
		planPath, err := writePlan(work, planParams{Port: cfg.Port, Conns: cfg.Conns, Seconds: cfg.Seconds})
		if err != nil {
			return tool{}, err
		}
		out := filepath.Join(work, "headroom.json")
		args := []string{cfg.Headroom, "run", "--quiet", "--out", out, planPath}
		return tool{
			Name: name, Args: args, ReportFile: out, Parse: parseHeadroom,
			How: fmt.Sprintf("headroom run --quiet --out result.json plan.yaml (bench/plan.yaml: closed model, %d virtual users from t=0, one GET, no think time, %s)", cfg.Conns, dur),
		}, nil
	}
	return tool{}, fmt.Errorf("-tools: unknown tool %q (known: %s)", name, strings.Join(knownTools, ", "))
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
