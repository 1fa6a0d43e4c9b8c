package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/headroom-sre/headroom/demo/front"
	"github.com/headroom-sre/headroom/demo/shop"
)

// shutdownGrace is how long the demo servers let requests in progress
// finish after SIGINT/SIGTERM.
const shutdownGrace = 10 * time.Second

const demoUsage = `usage: headroom demo shop  [flags]   the demo e-commerce API (headroom demo shop -h)
       headroom demo front [flags]   a round-robin front for N shops (headroom demo front -h)
       headroom demo fleet [flags]   shops autoscaled like Kubernetes' HPA (headroom demo fleet -h)

       headroom demo pgbouncer-exporter [flags]   PgBouncer's pools and stats for Prometheus`

func demoCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDemo(ctx, args, stdout, stderr)
}

// runDemo runs `headroom demo <shop|front>` until ctx ends.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, demoUsage)
		return exitUsage
	}
	switch args[0] {
	case "shop":
		return runDemoShop(ctx, args[1:], stdout, stderr)
	case "front":
		return runDemoFront(ctx, args[1:], stdout, stderr)
	case "fleet":
		return runDemoFleet(ctx, args[1:], stdout, stderr)
	case "pgbouncer-exporter":
		return runPgBouncerExporter(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, demoUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "headroom demo: unknown demo %q\n%s\n", args[0], demoUsage)
	return exitUsage
}

func runDemoShop(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headroom demo shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg shop.Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:18081", "listen address (loopback only)")
	fs.StringVar(&cfg.DBPath, "db", "", "SQLite file, shareable by several instances (default: a private temporary file),\n"+
		"or a PostgreSQL DSN (postgres://…, usually PgBouncer's): the shop then runs on PostgreSQL")
	fs.StringVar(&cfg.PgBouncerAdmin, "pgbouncer-admin", "", "PgBouncer's admin console DSN (postgres://…/pgbouncer): --pool then sets PgBouncer's default_pool_size")
	fs.IntVar(&cfg.Pool, "pool", 10, "database connection pool size (PgBouncer's with --pgbouncer-admin)")
	fs.BoolVar(&cfg.HotRow, "hot-row", false, "fault: every checkout updates one shared counter row first in its transaction (lock waits)")
	fs.BoolVar(&cfg.NPlusOne, "n-plus-one", false, "fault: product listing queries each product's stock separately")
	fs.BoolVar(&cfg.MissingIndex, "missing-index", false, "fault: drop the index checkout's recent-orders lookup needs")
	fs.DurationVar(&cfg.CPUBurn, "cpu-burn", 0, "fault: CPU time burnt per request, e.g. 500us")
	fs.IntVar(&cfg.Alloc, "alloc", 0, "fault: bytes allocated per request")
	fs.DurationVar(&cfg.ServiceTime, "service-time", 0, "fault: time each request holds its capacity slot without using CPU, e.g. 50ms\n"+
		"(with --capacity: at most capacity ÷ service-time requests a second)")
	fs.DurationVar(&cfg.MutexHold, "mutex-hold", 0, "fault: time each request holds one mutex the process shares, e.g. 2ms (Go lock contention, seen by the mutex and block profiles)")
	fs.IntVar(&cfg.Leak, "leak", 0, "fault: bytes kept for good per request, a memory leak (at most 2 GiB in all)")
	fs.DurationVar(&cfg.DownstreamLatency, "downstream-latency", 0, "fault: payment provider latency at checkout, e.g. 50ms")
	fs.IntVar(&cfg.Capacity, "capacity", 0, "fault: at most this many requests in their handler at once (0: no limit)")
	fs.Float64Var(&cfg.CPULimit, "cpu-limit", 0, "fault: a real CFS CPU quota in cores, e.g. 0.5: the process runs in a cgroup of its own\n"+
		"(needs root and the cgroup cpu controller), removed at exit; /metrics exports container_cpu_cfs_* (0: no limit)")
	fs.StringVar(&cfg.OTLPEndpoint, "otlp", "", "host:port of an OTLP/HTTP trace receiver, e.g. 127.0.0.1:14318 (default: no traces)")
	fs.StringVar(&cfg.ServiceName, "service", "shop", "service.name of the traces")
	fs.StringVar(&cfg.Instance, "instance", "", "service.instance.id of the traces (default: the listen address)")
	fs.IntVar(&cfg.Products, "products", 10000, "products to seed into a new database")
	fs.IntVar(&cfg.Users, "users", 1000, "users to seed into a new database (user0001@shop.test…, password \"secret\")")
	pprofAddr := fs.String("pprof-addr", "", "serve /debug/pprof/ on this loopback address, apart from the API (not traced, not in /metrics; default: off)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom demo shop: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if cfg.Pool < 1 { // Config's zero means "default"; on the command line it is a mistake
		fmt.Fprintf(stderr, "headroom demo shop: --pool: %d must be at least 1\n", cfg.Pool)
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "headroom demo shop: %v\n", err)
		return exitUsage
	}
	ln, code := listenLoopback("headroom demo shop", cfg.Addr, stderr)
	if ln == nil {
		return code
	}
	cfg.Addr = ln.Addr().String()
	start := time.Now()
	srv, err := shop.New(ctx, cfg)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "headroom demo shop: %v\n", err)
		return exitFailed
	}
	if *pprofAddr != "" {
		stopPprof, code := servePprof(*pprofAddr, stdout, stderr)
		if stopPprof == nil {
			_ = srv.Shutdown(context.Background())
			ln.Close()
			return code
		}
		defer stopPprof()
	}
	fmt.Fprintf(stdout, "shop listening on http://%s (ready in %s)\n", cfg.Addr, time.Since(start).Round(time.Millisecond))
	return serveUntilDone(ctx, "headroom demo shop", srv.Serve, srv.Shutdown, ln, stderr)
}

func runDemoFront(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headroom demo front", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:18090", "listen address (loopback only)")
	backends := fs.String("backends", "", "comma-separated backend base URLs, e.g. http://127.0.0.1:18082,http://127.0.0.1:18083")
	deadFor := fs.Duration("dead-for", 2*time.Second, "how long a backend that refused a connection is skipped")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom demo front: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var list []string
	for _, b := range strings.Split(*backends, ",") {
		if b = strings.TrimSpace(b); b != "" {
			list = append(list, b)
		}
	}
	if len(list) == 0 {
		fmt.Fprintln(stderr, "headroom demo front: --backends: at least one backend URL is required")
		return exitUsage
	}
	if *deadFor <= 0 {
		fmt.Fprintf(stderr, "headroom demo front: --dead-for: %s must be positive\n", *deadFor)
		return exitUsage
	}
	f, err := front.New(front.Config{Backends: list, DeadFor: *deadFor})
	if err != nil {
		fmt.Fprintf(stderr, "headroom demo front: --backends: %v\n", err)
		return exitUsage
	}
	ln, code := listenLoopback("headroom demo front", *addr, stderr)
	if ln == nil {
		return code
	}
	fmt.Fprintf(stdout, "front listening on http://%s, round-robin over %s\n", ln.Addr(), strings.Join(list, ", "))
	return serveUntilDone(ctx, "headroom demo front", f.Serve, f.Shutdown, ln, stderr)
}

// flagExit maps a flag parse error to an exit code (-h is not an error).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// listenLoopback listens on addr, which must be a loopback address: the
// demo is never exposed beyond this machine.
func listenLoopback(name, addr string, stderr io.Writer) (net.Listener, int) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --addr: %q is not host:port\n", name, addr)
		return nil, exitUsage
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "%s: --addr: %q is not a loopback address (use 127.0.0.1, [::1] or localhost)\n", name, addr)
		return nil, exitUsage
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --addr: %v\n", name, err)
		return nil, exitFailed
	}
	return ln, exitOK
}

// serveUntilDone serves on ln until ctx ends (SIGINT/SIGTERM), then shuts
// down gracefully.
func serveUntilDone(ctx context.Context, name string, serve func(net.Listener) error,
	shutdown func(context.Context) error, ln net.Listener, stderr io.Writer) int {
	served := make(chan error, 1)
	go func() { served <- serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = shutdown(sctx) // already failing; the serve error is the one to report
		return exitFailed
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "%s: shutdown: %v\n", name, err)
		return exitFailed
	}
	if err := <-served; err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailed
	}
	return exitOK
}
