package capacity

import (
	"context"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/generator"
)

// Prober runs load at constant rates against a URL and summarises what it
// measured. The study needs nothing else from a load engine; NewProber
// adapts the generator, and tests use fakes.
type Prober interface {
	Probe(ctx context.Context, p Probe) (Summary, error)
}

// ProberFunc lets a plain function act as a Prober.
type ProberFunc func(ctx context.Context, p Probe) (Summary, error)

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, p Probe) (Summary, error) { return f(ctx, p) }

// Probe is one request to a Prober: constant-rate holds run back to back
// in a single run, watched second by second.
type Probe struct {
	URL    string        // base URL; "" means the plan's target
	Holds  []Hold        // run in order without a gap
	Warmup time.Duration // from the start of the run, excluded from the Summary
	// Watch, when set, is called after each one-second window closes, in
	// order; returning false ends the run early (the Summary then covers the
	// seconds measured so far).
	Watch func(Tick) bool
}

// Hold is a constant offered rate, in iterations per second, for Duration.
type Hold struct {
	Rate     float64
	Duration time.Duration
}

// Duration is the total length of the holds of p.
func (p Probe) Duration() time.Duration {
	var d time.Duration
	for _, h := range p.Holds {
		d += h.Duration
	}
	return d
}

// Tick is one closed second of a run.
type Tick struct {
	Elapsed  time.Duration // end of this second since the run started
	Offered  float64       // iterations per second scheduled
	Achieved float64       // iterations per second started
	Requests int64         // completed
	Errors   int64
	Dropped  int64 // iterations that could not start
	InFlight float64
	Busy     float64 // virtual users inside an iteration, think time included
	Latency  Latency // ms, over this second's requests
}

// ErrorRate is Errors/Requests, 0 without requests.
func (t Tick) ErrorRate() float64 { return ratio(t.Errors, t.Requests) }

// Latency holds latency statistics in milliseconds; in JSON it has the
// layout of generator.Latency, under the key latency_ms.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Summary is what a Prober measured over the part of a run after its
// warm-up. Rates are per second of that part.
type Summary struct {
	Seconds    float64 // length of the measured part
	Offered    float64 // iterations/s scheduled
	Achieved   float64 // iterations/s started
	Throughput float64 // requests/s completed, errors included
	Goodput    float64 // requests/s completed without error
	Requests   int64
	Errors     int64
	Iterations int64 // started
	Dropped    int64 // could not start (no free virtual user, or late)
	InFlight   float64
	Busy       float64 // mean virtual users inside an iteration, think time included
	Latency    Latency
	// Hist, when set, is the merged latency histogram (µs) of the measured
	// part; it answers quantiles the Latency fields do not hold.
	Hist *hdrhistogram.Histogram

	// Start and End are the wall-clock span of the measured part, so the
	// step's telemetry can be queried later.
	Start, End time.Time
	// Exemplars are the slowest requests of the measured part, with the
	// trace IDs the generator sent (at most maxExemplars).
	Exemplars []generator.Exemplar

	Elapsed time.Duration // whole run, warm-up included
	Sent    int64         // requests completed over the whole run
	Stopped bool          // ended early by Watch
	// WarmupOnly says the run was stopped before its warm-up ended, and
	// the measured part is the warm-up: what stopped it is evidence too.
	WarmupOnly bool
	Aborted    string // why the load engine's abort rules stopped the run; "" if they did not
}

// ErrorRate is Errors/Requests, 0 without requests.
func (s Summary) ErrorRate() float64 { return ratio(s.Errors, s.Requests) }

// DroppedRate is the fraction of due iterations that could not start.
func (s Summary) DroppedRate() float64 { return ratio(s.Dropped, s.Iterations+s.Dropped) }

// quantile returns the latency at q (0.99 for p99) in ms, from Hist when
// it is set and otherwise from the nearest Latency field at or above q.
func (s Summary) quantile(q float64) float64 {
	if s.Hist != nil && s.Hist.TotalCount() > 0 {
		if q >= 1 {
			return float64(s.Hist.Max()) / 1000
		}
		return float64(s.Hist.ValueAtQuantile(q*100)) / 1000
	}
	return s.Latency.atLeast(q)
}

// atLeast returns the field for the smallest stored quantile ≥ q.
func (l Latency) atLeast(q float64) float64 {
	switch {
	case q <= 0.5:
		return l.P50
	case q <= 0.9:
		return l.P90
	case q <= 0.95:
		return l.P95
	case q <= 0.99:
		return l.P99
	default:
		return l.Max
	}
}

func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}
