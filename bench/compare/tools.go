package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
var knownTools = []string{"wrk", "fortio", "h2load", "vegeta", "headroom"}

// The protocols a comparison can run: plain HTTP/1.1, HTTP/1.1 over TLS,
// and HTTP/2 over TLS.
const (
	protoHTTP  = "http"
	protoHTTPS = "https"
	protoH2    = "h2"
)

var knownProtos = []string{protoHTTP, protoHTTPS, protoH2}

// protoTitle names a protocol in the table's heading.
var protoTitle = map[string]string{
	protoHTTP:  "HTTP: plain HTTP/1.1",
	protoHTTPS: "HTTPS: HTTP/1.1 over TLS",
	protoH2:    "HTTP/2 over TLS",
}

// speaks lists the protocols each tool takes part in.
var speaks = map[string][]string{
	"wrk":      {protoHTTP, protoHTTPS},
	"fortio":   {protoHTTP, protoHTTPS, protoH2},
	"h2load":   {protoH2},
	"vegeta":   {protoHTTP, protoHTTPS},
	"headroom": {protoHTTP, protoHTTPS, protoH2},
}

// toolsFor is the tools of cfg.Tools that speak proto, in order.
func toolsFor(cfg config, proto string) []string {
	var out []string
	for _, name := range cfg.Tools {
		if slices.Contains(speaks[name], proto) {
			out = append(out, name)
		}
	}
	return out
}

// targetMode is the bench/target -mode for a protocol: the configured one
// for plain HTTP; over TLS the goroutine-per-connection responder for
// HTTP/1.1 and net/http (the HTTP/2 server) for h2. The epoll loop has no
// TLS.
func targetMode(cfg config) string {
	switch cfg.Proto {
	case protoHTTPS:
		return "raw"
	case protoH2:
		return "nethttp"
	}
	return cfg.TargetMode
}

// buildTool prepares the named tool for one run of cfg.Proto, writing any
// input files it needs into work.
func buildTool(name string, cfg config, work string) (tool, error) {
	scheme := "http"
	if cfg.Proto != protoHTTP {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://127.0.0.1:%d/", scheme, cfg.Port)
	dur := fmt.Sprintf("%ds", cfg.Seconds)
	tls := scheme == "https"
	switch name {
	case "wrk":
		args := []string{cfg.Wrk, "-t1", fmt.Sprintf("-c%d", cfg.Conns), "-d" + dur, "--timeout", "10s", url}
		return tool{Name: name, Args: args, Parse: parseWrk, How: strings.Join(args, " ")}, nil

	case "fortio":
		out := filepath.Join(work, "fortio.json")
		args := []string{cfg.Fortio, "load", "-quiet", "-qps", "0", "-c", fmt.Sprint(cfg.Conns), "-t", dur,
			"-timeout", "10s", "-json", out}
		if tls {
			args = append(args, "-k")
		}
		if cfg.Proto == protoH2 {
			args = append(args, "-h2")
		}
		args = append(args, url)
		return tool{Name: name, Args: args, ReportFile: out, Parse: parseFortio, How: strings.Join(args, " ")}, nil

	case "h2load":
		conns := min(cfg.H2Conns, cfg.Conns)
		streams := max(cfg.Conns/conns, 1)
		args := []string{cfg.H2load, "-t1", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-m%d", streams),
			fmt.Sprintf("-D%d", cfg.Seconds), url}
		return tool{Name: name, Args: args, Parse: parseH2load, How: strings.Join(args, " ")}, nil

	case "vegeta":
		targets := filepath.Join(work, "vegeta-targets.txt")
		if err := os.WriteFile(targets, []byte("GET "+url+"\n"), 0o644); err != nil {
			return tool{}, err
		}
		attack := fmt.Sprintf("%s attack -targets=%s -rate=0 -workers=%d -max-workers=%d -duration=%s -timeout=10s",
			shellQuote(cfg.Vegeta), shellQuote(targets), cfg.Conns, cfg.Conns, dur)
		if tls {
			attack += " -insecure -http2=false"
		}
		pipeline := attack + " | " + shellQuote(cfg.Vegeta) + " report -type=json"
		return tool{
			Name:  name,
			Args:  []string{"bash", "-o", "pipefail", "-c", pipeline},
			Parse: parseVegeta,
			How: fmt.Sprintf("vegeta attack -rate=0 -workers=%d -max-workers=%d -duration=%s | vegeta report, "+
				"both processes on the generator core; CPU is their sum, RSS the larger of the two", cfg.Conns, cfg.Conns, dur),
		}, nil

	case "headroom":
		params := planParams{Scheme: scheme, Port: cfg.Port, Conns: cfg.Conns, MaxConns: cfg.Conns, Seconds: cfg.Seconds, Insecure: tls}
		if cfg.Proto == protoH2 {
			params.MaxConns = min(cfg.H2Conns, cfg.Conns)
		}
		planPath, err := writePlan(work, params)
		if err != nil {
			return tool{}, err
		}
		out := filepath.Join(work, "headroom.json")
		args := []string{cfg.Headroom, "run", "--quiet", "--out", out, planPath}
		return tool{
			Name: name, Args: args, ReportFile: out, Parse: parseHeadroom,
			How: fmt.Sprintf("headroom run --quiet --out result.json plan.yaml (bench/plan.yaml: closed model, %d virtual users from t=0, "+
				"one GET, no think time, %s, %s, max_conns %d)", cfg.Conns, dur, url, params.MaxConns),
		}, nil
	}
	return tool{}, fmt.Errorf("-tools: unknown tool %q (known: %s)", name, strings.Join(knownTools, ", "))
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
