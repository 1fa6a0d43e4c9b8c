package capacity

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// workerServer is an HTTP service whose capacity is known by construction:
// k workers, each taking a fixed service time per request, behind a queue
// of bounded length; a request that finds the queue full gets a 503. Its
// capacity is k / service requests per second.
type workerServer struct {
	*httptest.Server
	queue chan job
}

// job is one queued request: when it arrived, and a channel closed when
// it is served.
type job struct {
	at   time.Time
	done chan struct{}
}

// newWorkerServer starts a workerServer on loopback; it stops with the test.
func newWorkerServer(t *testing.T, k int, service time.Duration, queueLen int) *workerServer {
	t.Helper()
	ws := &workerServer{queue: make(chan job, queueLen)}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.work(service, quit)
		}()
	}
	ws.Server = httptest.NewServer(http.HandlerFunc(ws.serve))
	t.Cleanup(func() {
		ws.Close() // waits for handlers, which the workers still serve
		close(quit)
		wg.Wait()
	})
	return ws
}

// work serves queued requests one at a time in virtual time: a request
// starts when it arrived or when the previous one ended, whichever is
// later, and ends a service time after that. A late timer delays the
// response but not the schedule, so the worker's rate stays 1/service.
func (ws *workerServer) work(service time.Duration, quit <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var busyUntil time.Time
	for {
		select {
		case <-quit:
			return
		case j := <-ws.queue:
			start := j.at
			if start.Before(busyUntil) {
				start = busyUntil
			}
			busyUntil = start.Add(service)
			timer.Reset(time.Until(busyUntil))
			select {
			case <-timer.C:
			case <-quit:
				close(j.done)
				return
			}
			close(j.done)
		}
	}
}

func (ws *workerServer) serve(w http.ResponseWriter, r *http.Request) {
	done := make(chan struct{})
	select {
	case ws.queue <- job{at: time.Now(), done: done}:
	default:
		http.Error(w, "queue full", http.StatusServiceUnavailable)
		return
	}
	select {
	case <-done:
		_, _ = w.Write([]byte("ok\n"))
	case <-r.Context().Done():
	}
}

// e2ePlan is a plan against url with one GET journey and 8 s steps. Its
// SLO is a mean latency under avg (a threshold), at most 1% errors, and a
// loose p99 of 2 s.
func e2ePlan(t *testing.T, url string, start float64, avg time.Duration) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: e2e
target:
  base_url: %s
  allow: [127.0.0.1]
  timeout: 5s
slo:
  p99: 2s
  error_rate: 1%%
thresholds:
  - http_req_duration: "avg<%d"
load:
  model: open
  max_vus: 1000
  stages:
    - { duration: 1s, target: 1 }
journeys:
  - name: get
    steps:
      - name: root
        get: /
abort:
  max_rate: 2000/s
capacity:
  start_rate: %g
  step_duration: 8s
  warmup: 20%%
  precision: 5%%
  cooldown: 1s
`, url, avg.Milliseconds(), start)
	p, err := plan.Parse("e2e.yaml", []byte(src))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// maxStall is the precondition of the real-generator test: the machine
// never stalled this process for longer. A stall of T at 100 requests/s
// delays T × 100 requests by T/2 on average: at T = 1 s, 50 s of latency
// over a step's 640 measured requests, 78 ms on the mean, inside the SLO's
// 100 ms margin.
const maxStall = time.Second

// stallMeter records the worst lateness of a 10 ms ticker until stopped.
type stallMeter struct {
	worst atomic.Int64 // ns
	stop  context.CancelFunc
	done  chan struct{}
}

func startStallMeter() *stallMeter {
	ctx, cancel := context.WithCancel(context.Background())
	m := &stallMeter{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		const every = 10 * time.Millisecond
		tick := time.NewTicker(every)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				now := time.Now()
				if late := now.Sub(last) - every; late > time.Duration(m.worst.Load()) {
					m.worst.Store(int64(late))
				}
				last = now
			}
		}
	}()
	return m
}

// Stop ends the meter and returns the worst lateness seen.
func (m *stallMeter) Stop() time.Duration {
	m.stop()
	<-m.done
	return time.Duration(m.worst.Load())
}

// The real generator against a service whose capacity is set by its
// construction, not by the machine: 10 workers each taking 100 ms of
// virtual time a request serve exactly 100 requests/s, whatever the
// machine's speed (a late timer delays a response, not the schedule).
// Below 100/s nothing queues: the mean latency is the 100 ms service time
// (plus what a stall adds, under maxStall at most 78 ms). At 5% over, the
// queue grows by 5 requests a second, 50 ms of wait a second: by the
// middle of an 8 s step the mean is past 200 ms. The search must find
// 100/s within its 5% precision, as a bracket, not a lower bound.
func TestFindMeasuresKnownCapacityWithTheGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: sends load for about two minutes")
	}
	const workers, service = 10, 100 * time.Millisecond
	want := float64(workers) / service.Seconds()
	ex, stall := findOnWorkerServer(t, workers, service, 2*service)
	if stall > maxStall {
		t.Fatalf("precondition failed: the machine stalled this process for %s (at most %s keeps the mean latency inside the SLO's margin); run it under the load lock on a machine not starved",
			stall.Round(time.Millisecond), maxStall)
	}
	if ex.AtLeast || ex.LimitedBy != "" || ex.Unacceptable == 0 {
		t.Fatalf("capacity reported as a lower bound (%s), unacceptable %.1f: %v", ex.LimitedBy, ex.Unacceptable, ex.Notes)
	}
	if math.Abs(ex.Capacity-want) > 0.05*want {
		t.Errorf("capacity %.1f/s, want %.0f/s ± 5%% (unacceptable from %.1f/s; worst stall %s)", ex.Capacity, want, ex.Unacceptable, stall)
	}
	if ex.Unacceptable <= ex.Capacity || ex.Unacceptable > 1.1*want {
		t.Errorf("unacceptable from %.1f/s, want above the capacity %.1f/s and within 10%% of %.0f/s", ex.Unacceptable, ex.Capacity, want)
	}
}

// findOnWorkerServer runs Find with the real generator against a fresh
// worker server and returns what it found and the worst stall seen.
func findOnWorkerServer(t *testing.T, workers int, service, avg time.Duration) (Exploration, time.Duration) {
	t.Helper()
	want := float64(workers) / service.Seconds()
	// A queue of a second of work absorbs short stalls; past capacity the
	// wait in it grows every second.
	srv := newWorkerServer(t, workers, service, int(want))
	p := e2ePlan(t, srv.URL, want/5, avg)
	t.Logf("precondition: a %d × %s worker server (capacity %.0f/s); this process must not stall for more than %s", workers, service, want, maxStall)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	meter := startStallMeter()
	ex, err := Find(ctx, p, NewProber(p, func(string) {}), Options{})
	stall := meter.Stop()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range ex.Steps {
		steady := "steadiness not judged"
		if d := st.Steadiness; d != nil && d.Steady {
			steady = fmt.Sprintf("steady (in-flight %+.1f over %d s)", d.InFlightRise, d.Seconds)
		} else if d != nil {
			steady = "not steady: " + d.Why
		}
		t.Logf("%-8s %7.1f/s  X %7.1f  p99 %6.1fms  err %5.2f%%  in-flight %5.1f  L %5.1f  %s %v; %s",
			st.Phase, st.Rate, st.Throughput, st.Latency.P99, st.ErrorRate*100, st.InFlight, st.LittlesL, st.Verdict, st.Reasons, steady)
	}
	t.Logf("capacity %.1f/s, unacceptable %.1f/s, worst stall %s", ex.Capacity, ex.Unacceptable, stall.Round(time.Millisecond))
	return ex, stall
}
