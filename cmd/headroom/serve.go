package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
	"github.com/headroom-sre/headroom/ui"
)

// serveCmd is `headroom serve`: the API, the dashboard and the job runner
// over one store, until SIGINT or SIGTERM (running jobs then end as
// cancelled, their data written).
func serveCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: headroom serve [--addr 127.0.0.1:8080] [--db headroom.db|postgres://…] [--allow HOST[:PORT],…] [--observe-allow HOST[:PORT],…] [--plan-env NAMES] [--max-rate N] [--max-vus N] [--kubernetes --agent-server URL --agent-image IMAGE --agent-token-secret NAME]")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8080", "listen on this address")
	dsn := fs.String("db", "headroom.db", "the store: a SQLite file or a postgres:// URL (several servers may share one PostgreSQL)")
	allow := fs.String("allow", strings.Join(server.DefaultAllow, ","), "where load may go, on top of each plan's target.allow: host[:port], comma-separated (a host without a port: any port; *.example.com, * for any host)")
	maxRate := fs.Float64("max-rate", 0, "cap every job's rate at this many iterations/s (0: the plans' own abort.max_rate)")
	maxJobs := fs.Int("max-jobs", 2, "jobs this server runs at once (one per target host in any case)")
	owner := fs.String("owner", "", "this server's name in job claims (default: hostname/addr); keep it stable across restarts")
	dataDir := fs.String("data-dir", "", "read stored plans' data files (data.<name>.csv, relative paths only) from this folder (default: the working directory)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logJSON := fs.Bool("log-json", false, "write the log as JSON lines")
	observeAllow := fs.String("observe-allow", strings.Join(server.DefaultAllow, ","), "where plans' observe URLs (Prometheus, Jaeger, Tempo, Grafana) may point: host[:port], comma-separated")
	planEnv := fs.String("plan-env", "", "environment variables plans may read through target.env, comma-separated (default: none)")
	maxVUs := fs.Int("max-vus", 1000, "most virtual users (concurrent iterations) a plan may ask for; more is refused at the plan's line")
	maxConns := fs.Int("max-conns", 512, "most open connections; one more is closed at once")
	webhookAllow := fs.String("webhook-allow", strings.Join(server.DefaultAllow, ","), "where review webhooks may POST: host[:port], comma-separated")
	tokenFile := fs.String("admin-token-file", "", "on a store's first start, write its admin token to this new file (mode 0600) instead of printing it on stdout")
	kubeFlags := bindKubeServe(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "headroom serve: --log-level: %v\n", err)
		return exitUsage
	}
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if *logJSON {
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(h)
	launcher, err := kubeFlags.launcher(os.Getenv("KUBECONFIG"))
	if err != nil {
		fmt.Fprintf(stderr, "headroom serve: %v\n", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, *dsn, store.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "headroom serve: %v\n", err)
		return exitFailed
	}
	defer st.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "headroom serve: %v\n", err)
		return exitUsage
	}
	name := *owner
	if name == "" {
		host, _ := os.Hostname()
		name = host + "/" + ln.Addr().String()
	}
	srv, err := server.New(st, server.Config{
		Allow: splitList(*allow), MaxRate: *maxRate, MaxJobs: *maxJobs, Owner: name, DataDir: *dataDir, UI: ui.FS(), Logger: log,
		ObserveAllow: splitList(*observeAllow), PlanEnv: splitList(*planEnv), MaxVUs: *maxVUs, MaxConns: *maxConns,
		WebhookAllow: splitList(*webhookAllow), Launcher: launcher,
	})
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "headroom serve: %v\n", err)
		return exitUsage
	}
	first, err := srv.EnsureAdmin(ctx)
	switch {
	case errors.Is(err, server.ErrNoAdmin):
		fmt.Fprintf(stderr, "headroom serve: %v; make one with: headroom token create --db %s --role admin\n", err, *dsn)
	case err != nil:
		ln.Close()
		fmt.Fprintf(stderr, "headroom serve: %v\n", err)
		return exitFailed
	case first != "":
		if err := handOver(first, *tokenFile, stdout, stderr); err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "headroom serve: %v\n", err)
			return exitFailed
		}
	}
	fmt.Fprintf(stderr, "headroom serve: listening on http://%s (store: %s)\n", ln.Addr(), st.Driver())
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "headroom serve: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// handOver gives the first admin token to the person starting the server,
// once and outside the log: into a new 0600 file, or on stdout.
func handOver(token, file string, stdout, stderr io.Writer) error {
	if file == "" {
		fmt.Fprintln(stderr, "headroom serve: the store had no tokens; its admin token is on stdout, shown this once")
		fmt.Fprintln(stdout, token)
		return nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--admin-token-file: %w (it must not exist yet)", err)
	}
	if _, err := fmt.Fprintln(f, token); err != nil {
		f.Close()
		return fmt.Errorf("--admin-token-file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--admin-token-file: %w", err)
	}
	fmt.Fprintf(stderr, "headroom serve: the store had no tokens; its admin token is in %s (mode 0600)\n", file)
	return nil
}

// splitList splits a comma-separated flag, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
