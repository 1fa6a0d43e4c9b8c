package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTLSServersSpeakTheirProtocols serves as `make bench` does with -tls:
// raw answers HTTP/1.1 over TLS, nethttp HTTP/2 to a client that offers
// it; both count what they served.
func TestTLSServersSpeakTheirProtocols(t *testing.T) {
	for mode, wantProto := range map[string]int{"raw": 1, "nethttp": 2} {
		t.Run(mode, func(t *testing.T) {
			ln, scheme, err := listen("127.0.0.1:0", mode, true)
			if err != nil || scheme != "https" {
				t.Fatalf("listen: %q %v", scheme, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan counts, 1)
			go func() {
				c, err := serverFor(mode)(ctx, ln)
				if err != nil {
					t.Error(err)
				}
				done <- c
			}()
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for range 3 {
				resp, err := client.Get("https://" + ln.Addr().String() + "/")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "ok" || resp.ProtoMajor != wantProto || resp.TLS == nil {
					t.Errorf("got %d %q over HTTP/%d (TLS %v), want 200 \"ok\" over HTTP/%d and TLS", resp.StatusCode, body, resp.ProtoMajor, resp.TLS != nil, wantProto)
				}
			}
			cancel()
			if c := <-done; c.Requests != 3 || c.Connections != 1 {
				t.Errorf("counts %+v, want 3 requests on 1 connection", c)
			}
		})
	}
}

func TestTLSNeedsAGoroutineServer(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-addr", "127.0.0.1:0", "-tls"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-tls") {
		t.Errorf("epoll -tls: exit %d, %q; want 2 naming -tls", code, stderr.String())
	}
}
