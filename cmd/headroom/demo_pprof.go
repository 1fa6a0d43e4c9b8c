package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/demo/shop"
)

// servePprof serves the shop's profiles on a loopback address of their own
// (--pprof-addr) and turns on mutex and block profiling. It returns the
// function that stops that server, or nil and an exit code.
func servePprof(addr string, stdout, stderr io.Writer) (func(), int) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		fmt.Fprintf(stderr, "headroom demo shop: --pprof-addr: %q is not a loopback host:port (use 127.0.0.1, [::1] or localhost)\n", addr)
		return nil, exitUsage
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "headroom demo shop: --pprof-addr: %v\n", err)
		return nil, exitFailed
	}
	runtime.SetMutexProfileFraction(5)  // one contention event in 5
	runtime.SetBlockProfileRate(10_000) // about one blocking event per 10µs blocked
	srv := &http.Server{Handler: shop.PprofHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stdout, "shop profiles on http://%s/debug/pprof/\n", strings.TrimSuffix(ln.Addr().String(), "/"))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, exitOK
}
