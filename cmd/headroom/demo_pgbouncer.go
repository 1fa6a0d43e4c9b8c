package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headroom-sre/headroom/obs/pgbouncer"
)

// runPgBouncerExporter serves PgBouncer's admin console as Prometheus metrics
// (community pgbouncer_exporter names) until ctx ends: the demo stack's
// stand-in for Debian's prometheus-pgbouncer-exporter, which crashes on
// PgBouncer 1.18.
func runPgBouncerExporter(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headroom demo pgbouncer-exporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:19127", "listen address (loopback only)")
	dsn := fs.String("dsn", "", "PgBouncer admin console, e.g. postgres://headroom@127.0.0.1:16432/pgbouncer?sslmode=disable")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom demo pgbouncer-exporter: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *dsn == "" {
		fmt.Fprintln(stderr, "headroom demo pgbouncer-exporter: --dsn: the admin console's DSN is required")
		return exitUsage
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(pgbouncer.New(*dsn))
	ln, code := listenLoopback("headroom demo pgbouncer-exporter", *addr, stderr)
	if ln == nil {
		return code
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "pgbouncer exporter listening on http://%s/metrics\n", ln.Addr())
	return serveUntilDone(ctx, "headroom demo pgbouncer-exporter", srv.Serve,
		srv.Shutdown, ln, stderr)
}
