// Command target is the loopback HTTP/1.1 server that `make bench` drives
// with wrk, vegeta and headroom. It answers every request with a fixed
// tiny 200 and keeps connections alive, counts the responses it wrote, and
// on SIGTERM or SIGINT prints that count as one JSON line on stdout:
//
//	{"requests":1234567,"connections":64}
//
// The count lets the bench cross-check what each tool says it sent.
//
// -tls serves HTTPS with a self-signed certificate made at start: -mode raw
// speaks HTTP/1.1 only (ALPN "http/1.1"), -mode nethttp offers HTTP/2 and
// HTTP/1.1 ("h2" first), so HTTP/2 clients get HTTP/2.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// counts is what the target prints when it stops.
type counts struct {
	Requests    int64 `json:"requests"`
	Connections int64 `json:"connections"`
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("target", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:18999", "loopback `host:port` to listen on")
	mode := fs.String("mode", "epoll", "server: epoll (one event loop), raw (goroutine per connection) or nethttp (net/http)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate (-mode raw: HTTP/1.1; nethttp: HTTP/2 and HTTP/1.1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := checkLoopback(*addr); err != nil {
		fmt.Fprintf(stderr, "target: -addr: %v\n", err)
		return 2
	}
	serve := serverFor(*mode)
	if serve == nil {
		fmt.Fprintf(stderr, "target: -mode: %q is not epoll, raw or nethttp\n", *mode)
		return 2
	}
	if *useTLS && *mode == "epoll" {
		fmt.Fprintln(stderr, "target: -tls: needs -mode raw or nethttp")
		return 2
	}
	ln, scheme, err := listen(*addr, *mode, *useTLS)
	if err != nil {
		fmt.Fprintf(stderr, "target: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "target: %s %s server listening on %s\n", *mode, scheme, ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	got, err := serve(ctx, ln)
	if err != nil {
		fmt.Fprintf(stderr, "target: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(got); err != nil {
		fmt.Fprintf(stderr, "target: %v\n", err)
		return 1
	}
	return 0
}

// listen listens on addr, through TLS when useTLS: raw offers HTTP/1.1
// only, nethttp HTTP/2 first. It returns the URL scheme served.
func listen(addr, mode string, useTLS bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil || !useTLS {
		return ln, "http", err
	}
	protos := []string{"http/1.1"}
	if mode == "nethttp" {
		protos = []string{"h2", "http/1.1"}
	}
	tln, err := tlsListener(ln, protos...)
	if err != nil {
		ln.Close()
		return nil, "", err
	}
	return tln, "https", nil
}

// serverFor is the server a -mode names, or nil. Each serves ln until ctx
// ends and returns what it counted.
func serverFor(mode string) func(context.Context, net.Listener) (counts, error) {
	switch mode {
	case "epoll":
		return serveEpoll
	case "raw":
		return serveRaw
	case "nethttp":
		return serveNetHTTP
	}
	return nil
}

// checkLoopback accepts only a host:port on 127.0.0.1, ::1 or localhost.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address", addr)
}

// serveRaw runs the lean responder on ln until ctx is done.
func serveRaw(ctx context.Context, ln net.Listener) (counts, error) {
	r := newResponder()
	done := make(chan error, 1)
	go func() { done <- r.Serve(ln) }()
	select {
	case <-ctx.Done():
		ln.Close()
		err := <-done
		return counts{r.served.Load(), r.accepted.Load()}, err
	case err := <-done:
		return counts{r.served.Load(), r.accepted.Load()}, err
	}
}
