package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/headroom-sre/headroom/demo/fleet"
)

func runDemoFleet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headroom demo fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg fleet.Config
	addr := fs.String("addr", "127.0.0.1:18095", "listen address (loopback only)")
	fs.IntVar(&cfg.Min, "min", 1, "fewest instances")
	fs.IntVar(&cfg.Max, "max", 4, "most instances")
	fs.DurationVar(&cfg.Startup, "startup", 10*time.Second, "how long a new instance takes before it serves")
	fs.Float64Var(&cfg.TargetRPS, "target-rps", 0, "requests per second per instance the autoscaler aims at (required)")
	fs.DurationVar(&cfg.Sync, "sync", 5*time.Second, "how often the autoscaler decides")
	fs.DurationVar(&cfg.Window, "window", 10*time.Second, "what the request rate is averaged over")
	fs.DurationVar(&cfg.ScaleDownWindow, "scale-down-window", time.Minute, "stabilisation window: scale down only to the highest recommendation within it")
	fs.IntVar(&cfg.Shop.Capacity, "capacity", 0, "each instance: at most this many requests in their handler at once (0: no limit)")
	fs.DurationVar(&cfg.Shop.ServiceTime, "service-time", 0, "each instance: time a request holds its slot without CPU, e.g. 50ms")
	fs.DurationVar(&cfg.Shop.CPUBurn, "cpu-burn", 0, "each instance: CPU time burnt per request")
	fs.IntVar(&cfg.Shop.Leak, "leak", 0, "each instance: bytes kept for good per request")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom demo fleet: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "headroom demo fleet: %v (flags use - for _)\n", err)
		return exitUsage
	}
	ln, code := listenLoopback("headroom demo fleet", *addr, stderr)
	if ln == nil {
		return code
	}
	f, err := fleet.New(ctx, cfg)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "headroom demo fleet: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "fleet listening on http://%s (%d–%d instances at %g req/s each, %s startup; replicas on /metrics)\n",
		ln.Addr(), cfg.Min, cfg.Max, cfg.TargetRPS, cfg.Startup)
	return serveUntilDone(ctx, "headroom demo fleet", f.Serve, f.Shutdown, ln, stderr)
}
