package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// serveNetHTTP answers like the raw responder but with net/http, so the
// bench can show whether net/http on one core would be the bottleneck.
func serveNetHTTP(ctx context.Context, ln net.Listener) (counts, error) {
	var served, accepted atomic.Int64
	body := []byte("ok")
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{"text/plain"}
			h["Content-Length"] = []string{"2"}
			_, _ = w.Write(body)
			served.Add(1)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				accepted.Add(1)
			}
		},
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		// Close, not Shutdown: the tools keep their connections busy, so
		// there is nothing graceful to wait for.
		srv.Close()
		err := <-done
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return counts{served.Load(), accepted.Load()}, err
	case err := <-done:
		return counts{served.Load(), accepted.Load()}, err
	}
}
