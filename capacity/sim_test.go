package capacity

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// simTarget is a deterministic Prober that simulates, in virtual time, a
// service of known capacity: a server that completes Capacity requests per
// second, each taking Base ms plus jitter, with a queue of QueueMax
// requests beyond which it rejects (an error, answered fast). Its queue
// carries over from one probe to the next, as a real backlog would.
type simTarget struct {
	Capacity float64 // requests/s
	Base     float64 // ms
	Noise    float64 // relative jitter of each latency
	QueueMax float64 // queued requests before rejection; default 2 s of capacity
	GenMax   float64 // the generator cannot offer more than this (0 = no limit)
	Seed     uint64

	rng     *rand.Rand
	backlog float64
	frac    float64 // arrivals carried to the next second
	probes  []Probe // every probe asked for, in order
}

// Probe simulates p second by second.
func (s *simTarget) Probe(ctx context.Context, p Probe) (Summary, error) {
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	}
	if s.QueueMax == 0 {
		s.QueueMax = 2 * s.Capacity
	}
	s.probes = append(s.probes, p)
	var sum Summary
	merged := hdrhistogram.New(10, 60_000_000, 2)
	var latSum, inFlight float64
	var sec int
	stopped := false
	for _, h := range p.Holds {
		for t := time.Duration(0); t < h.Duration && !stopped; t += time.Second {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			sec++
			tick, hist, lat := s.second(h.Rate)
			tick.Elapsed = time.Duration(sec) * time.Second
			sum.Elapsed = tick.Elapsed
			sum.Sent += tick.Requests
			if tick.Elapsed-time.Second >= p.Warmup {
				sum.Seconds++
				sum.Offered += tick.Offered
				sum.Achieved += tick.Achieved
				sum.Requests += tick.Requests
				sum.Errors += tick.Errors
				sum.Iterations += int64(tick.Achieved)
				sum.Dropped += tick.Dropped
				inFlight += tick.InFlight
				sum.Busy += tick.Busy
				latSum += lat
				merged.Merge(hist)
			}
			if p.Watch != nil && !p.Watch(tick) {
				stopped = true
			}
		}
	}
	sum.Stopped = stopped
	if sum.Seconds > 0 {
		n := sum.Seconds
		sum.Offered /= n
		sum.Achieved /= n
		sum.Throughput = float64(sum.Requests) / n
		sum.Goodput = float64(sum.Requests-sum.Errors) / n
		sum.InFlight = inFlight / n
		sum.Busy /= n
		sum.Hist = merged
		sum.Latency = latencyOf(merged)
		if sum.Requests > 0 {
			sum.Latency.Mean = latSum / float64(sum.Requests)
		}
	}
	return sum, nil
}

// second simulates one second at rate: arrivals evenly spaced, the queue
// draining at Capacity. It returns the tick, its histogram (µs) and the
// sum of its latencies (ms).
func (s *simTarget) second(rate float64) (Tick, *hdrhistogram.Histogram, float64) {
	offered := rate
	if s.GenMax > 0 && rate > s.GenMax {
		rate = s.GenMax
	}
	s.frac += rate
	n := int(s.frac)
	s.frac -= float64(n)
	h := hdrhistogram.New(10, 60_000_000, 2)
	t := Tick{Offered: offered, Achieved: float64(n), Requests: int64(n)}
	var latSum float64
	drain := s.Capacity / float64(max(n, 1))
	for i := 0; i < n; i++ {
		s.backlog = math.Max(0, s.backlog-drain)
		jitter := math.Max(0.1, 1+s.Noise*s.rng.NormFloat64())
		lat := s.Base * jitter
		if s.backlog >= s.QueueMax {
			t.Errors++
			lat = 0.1 * s.Base
		} else {
			lat += s.backlog / s.Capacity * 1000
			s.backlog++
		}
		latSum += lat
		_ = h.RecordValue(int64(lat * 1000))
	}
	if n == 0 {
		s.backlog = math.Max(0, s.backlog-s.Capacity)
	}
	t.Latency = latencyOf(h)
	if n > 0 {
		t.Latency.Mean = latSum / float64(n)
	}
	t.InFlight = float64(n) * t.Latency.Mean / 1000
	t.Busy = t.InFlight // no think time
	return t, h, latSum
}

// latencyOf reads the usual statistics of a µs histogram in ms.
func latencyOf(h *hdrhistogram.Histogram) Latency {
	q := func(p float64) float64 { return float64(h.ValueAtQuantile(p)) / 1000 }
	return Latency{P50: q(50), P90: q(90), P95: q(95), P99: q(99), Max: float64(h.Max()) / 1000, Mean: h.Mean() / 1000}
}

// rates lists the rate of every probe's first hold.
func (s *simTarget) rates() []float64 {
	out := make([]float64, len(s.probes))
	for i, p := range s.probes {
		out[i] = p.Holds[0].Rate
	}
	return out
}
