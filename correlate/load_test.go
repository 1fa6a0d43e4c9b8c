package correlate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/correlate"
)

// recorder keeps each request's latency and trace ID by the second it was
// due, for the integration tests' small open-model load loop.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	secs  map[int][]sample
}

type sample struct {
	lat     time.Duration
	traceID string
	name    string
	failed  bool
}

func newRecorder(start time.Time) *recorder {
	return &recorder{start: start.Truncate(time.Second), secs: map[int][]sample{}}
}

func (r *recorder) add(due time.Time, s sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := int(due.Sub(r.start) / time.Second)
	r.secs[i] = append(r.secs[i], s)
}

// input turns what was recorded into correlation input: p99 per second and
// the three slowest requests of each second as exemplars.
func (r *recorder) input() correlate.Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	var in correlate.Input
	keys := make([]int, 0, len(r.secs))
	for k := range r.secs {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		ss := append([]sample(nil), r.secs[k]...)
		sort.Slice(ss, func(i, j int) bool { return ss[i].lat > ss[j].lat })
		at := r.start.Add(time.Duration(k) * time.Second)
		failed := 0
		for _, s := range ss {
			if s.failed {
				failed++
			}
		}
		idx := len(ss) / 100 // p99: the (n/100)-th slowest
		in.Seconds = append(in.Seconds, correlate.Point{At: at, Rate: float64(len(ss)), Requests: int64(len(ss)),
			P99Ms: float64(ss[idx].lat) / float64(time.Millisecond), ErrorRate: float64(failed) / float64(len(ss))})
		for _, s := range ss[:min(3, len(ss))] {
			in.Exemplars = append(in.Exemplars, correlate.Exemplar{TraceID: s.traceID, At: at, LatencyMs: float64(s.lat) / float64(time.Millisecond), Name: s.name})
		}
	}
	return in
}

// iteration is one user action: it sends its requests through do.
type iteration func(ctx context.Context, i int, do doer) error

// doer sends one request with a new trace and records it.
type doer func(ctx context.Context, name, method, path string, body any, header http.Header) ([]byte, error)

// drive runs iterations at rate per second for d, never more than
// maxInFlight at once (a due iteration that finds none free is skipped),
// and returns when every started one has finished.
func drive(ctx context.Context, base string, rate float64, d time.Duration, rec *recorder, it iteration) {
	const maxInFlight = 200
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: maxInFlight}}
	defer client.CloseIdleConnections()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		select {
		case sem <- struct{}{}:
		default:
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			do := func(ctx context.Context, name, method, path string, body any, header http.Header) ([]byte, error) {
				return send(ctx, client, base, due, rec, name, method, path, body, header)
			}
			_ = it(ctx, i, do)
		}()
	}
	wg.Wait()
}

func send(ctx context.Context, c *http.Client, base string, due time.Time, rec *recorder, name, method, path string, body any, header http.Header) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tid, sid := make([]byte, 16), make([]byte, 8)
	_, _ = rand.Read(tid)
	_, _ = rand.Read(sid)
	req.Header.Set("traceparent", fmt.Sprintf("00-%x-%x-01", tid, sid))
	t := time.Now()
	resp, err := c.Do(req)
	var out []byte
	if err == nil {
		out, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			err = fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, out)
		}
	}
	rec.add(due, sample{lat: time.Since(t), traceID: hex.EncodeToString(tid), name: name, failed: err != nil})
	return out, err
}
