package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/headroom-sre/headroom/agent"
)

// agentCmd is `headroom agent --server URL --token T`: a load generator
// that dials out to a server and sends its share of the server's jobs.
func agentCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom agent --server URL [--token T | $HEADROOM_AGENT_TOKEN | --token-file F] [--name N] [--jobs 1] [--max-rate R] [--give-up 30s]")
		fs.PrintDefaults()
	}
	server := fs.String("server", "", "the headroom server's URL (http://host:port or https://…); the agent dials out to it")
	token := fs.String("token", "", "a token of role agent (headroom token create --role agent); default $HEADROOM_AGENT_TOKEN")
	tokenFile := fs.String("token-file", "", "read the agent token from this file (a Kubernetes Secret mounted as a file)")
	name := fs.String("name", "", "the agent's name in the server's job pages (default <hostname>-<pid>)")
	jobs := fs.Int("jobs", 1, "exit after this many jobs have ended; -1 serves jobs until stopped")
	maxRate := fs.Float64("max-rate", 0, "the iterations/s this agent was calibrated to offer, reported to the server (0: unknown)")
	giveUp := fs.Duration("give-up", 30*time.Second, "exit when the server stays unreachable this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom agent: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	tok := *token
	if tok == "" && *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "headroom agent: --token-file: %v\n", err)
			return exitUsage
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		tok = os.Getenv("HEADROOM_AGENT_TOKEN")
	}
	switch u, err := url.Parse(*server); {
	case *server == "":
		fmt.Fprintln(stderr, "headroom agent: --server: the server's URL is required")
		return exitUsage
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		fmt.Fprintf(stderr, "headroom agent: --server %q: want an http:// or https:// URL\n", *server)
		return exitUsage
	case tok == "":
		fmt.Fprintln(stderr, "headroom agent: --token: an agent token is required (--token, --token-file or $HEADROOM_AGENT_TOKEN; make one with headroom token create --role agent)")
		return exitUsage
	case *jobs == 0 || *jobs < -1:
		fmt.Fprintf(stderr, "headroom agent: --jobs %d: want 1 or more, or -1\n", *jobs)
		return exitUsage
	case *maxRate < 0 || *giveUp <= 0:
		fmt.Fprintln(stderr, "headroom agent: --max-rate must not be negative and --give-up must be positive")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	err := agent.Run(ctx, agent.Config{Server: strings.TrimRight(*server, "/"), Token: tok, Name: *name, Jobs: *jobs,
		MaxRate: *maxRate, GiveUp: *giveUp, Version: version, Log: log})
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "headroom agent: stopped")
		return exitOK
	}
	fmt.Fprintf(stderr, "headroom agent: %v\n", err)
	return exitFailed
}
