// Command headroom finds how much load an HTTP service can carry, where it
// breaks, why, and how it should scale.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes shared by the subcommands.
const (
	exitOK      = 0
	exitFailed  = 1 // an SLO failed, or a required capacity was not reached
	exitUsage   = 2 // a bad plan, flag or argument
	exitAborted = 3 // an abort rule stopped the run
)

// command is one subcommand: it gets its arguments (after the name) and
// returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"version":   {"print the version", versionCmd},
		"agent":     {"a load agent: dials out to a server and sends its share of the server's jobs", agentCmd},
		"capacity":  {"find single-instance capacity, extrapolate, verify, stress, recommend", capacityCmd},
		"demo":      {"run the demo shop service or its round-robin front", demoCmd},
		"run":       {"run a plan's load profile and check its SLOs", runCmd},
		"correlate": {"explain a saved run or study from Prometheus metrics and Tempo traces", correlateCmd},
		"serve":     {"the API, dashboard and job runner over one store", serveCmd},
		"token":     {"create or list API tokens in a store", tokenCmd},
		"report":    {"render a saved run or study as HTML, PDF, Markdown or JUnit, with a baseline gate", reportCmd},
		"plan":      {"derive a plan from production (access logs, HAR) or check one against it", planCmd},
		"agents":    {"print the Kubernetes manifests that run agents (an Indexed Job, its Secret, RBAC)", agentsCmd},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "headroom: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: headroom <command> [flags] [args]")
	fmt.Fprintln(w, "commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
}
