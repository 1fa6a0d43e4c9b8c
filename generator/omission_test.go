package generator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// stallingServer answers at once, except during the first second of every
// five: then every request waits until the stall is over.
func stallingServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(stallingHandler())
	t.Cleanup(srv.Close)
	return srv
}

func stallingHandler() http.Handler {
	start := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		phase := time.Since(start) % (5 * time.Second)
		if phase < time.Second {
			select {
			case <-time.After(time.Second - phase):
			case <-r.Context().Done():
			}
		}
	})
}

// TestCoordinatedOmissionIsNotHidden drives a service that stalls for 1 s
// every 5 s. The open model measures each iteration from when it was due,
// so the stall shows in p99; a naive closed loop that measures from when it
// sent sees only a handful of slow requests and a tiny p99.
func TestCoordinatedOmissionIsNotHidden(t *testing.T) {
	res := mustRun(t, newPlan(stallingServer(t).URL, constant(200, 7*time.Second, 2000)), Options{})
	p99 := res.Summary.Latency.P99
	if p99 < 300 {
		t.Errorf("headroom p99 = %.1f ms over two 1 s stalls, want ≥ 300 ms", p99)
	}
	if res.Summary.Errors != 0 { // only a starved machine makes requests time out here
		t.Logf("%d errors: %v", res.Summary.Errors, res.Summary.Classes)
	}

	naive := naiveClosedLoop(t, stallingServer(t).URL, 4, 7*time.Second)
	t.Logf("p99: headroom %.1f ms, naive closed loop %.1f ms over %d requests", p99, naive.p99, naive.n)
	if naive.p99 > p99/5 {
		t.Errorf("naive p99 = %.1f ms, want far below headroom's %.1f ms", naive.p99, p99)
	}
}

// TestCoordinatedOmissionIsNotHiddenOverTLS runs the stalling target over
// HTTPS, on the own TLS connections (HTTP/1.1) and on HTTP/2 streams: the
// stall must show in p99 on both.
func TestCoordinatedOmissionIsNotHiddenOverTLS(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		srv, _ := tlsServer(t, h2, stallingHandler())
		p := newPlan(srv.URL, constant(200, 7*time.Second, 2000))
		p.Target.Insecure = true
		p.Target.MaxConns = 4 // HTTP/2: the users share 4 connections
		if !h2 {
			p.Target.MaxConns = 0 // HTTP/1.1: a TLS connection of its own per user
		}
		res := mustRun(t, p, Options{})
		if p99 := res.Summary.Latency.P99; p99 < 300 {
			t.Errorf("h2 %v: p99 = %.1f ms over two 1 s stalls, want ≥ 300 ms", h2, p99)
		}
		if res.Summary.Requests < 1000 {
			t.Errorf("h2 %v: %d requests, want the ~1400 due", h2, res.Summary.Requests)
		}
	}
}

type naiveResult struct {
	p99 float64
	n   int64
}

// naiveClosedLoop is how a tool with coordinated omission measures: a few
// workers send, wait for the answer and time it from the send.
func naiveClosedLoop(t *testing.T, url string, workers int, d time.Duration) naiveResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	h := NewHistogram()
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	const maxPerWorker = 200000
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < maxPerWorker && ctx.Err() == nil; i++ {
				start := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					continue
				}
				resp.Body.Close()
				mu.Lock()
				_ = h.RecordValue(clampMicros(time.Since(start).Microseconds()))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return naiveResult{p99: LatencyOf(h).P99, n: h.TotalCount()}
}
