package capacity

import (
	"context"
	"math"
	"time"
)

// script is a Prober whose every second is written out by tick, from the
// run's second (1-based) and the rate of the hold it falls in: the
// known-answer tests say exactly what each second measured.
type script struct {
	tick   func(sec int, rate float64) Tick
	probes []Probe
}

// Probe plays the script through p's holds, a second at a time, and
// summarises the seconds after the warm-up (latencies: the worst second's);
// a run stopped within its warm-up is summarised over the warm-up, as the
// generator's prober does.
func (s *script) Probe(ctx context.Context, p Probe) (Summary, error) {
	s.probes = append(s.probes, p)
	var warm, meas []Tick
	var sum Summary
	sec := 0
run:
	for _, h := range p.Holds {
		for i := 0; i < int(h.Duration/time.Second); i++ {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			sec++
			t := s.tick(sec, h.Rate)
			t.Elapsed = time.Duration(sec) * time.Second
			sum.Elapsed, sum.Sent = t.Elapsed, sum.Sent+t.Requests
			if t.Elapsed-time.Second >= p.Warmup {
				meas = append(meas, t)
			} else {
				warm = append(warm, t)
			}
			if p.Watch != nil && !p.Watch(t) {
				sum.Stopped = true
				break run
			}
		}
	}
	if sum.Stopped && len(meas) == 0 && len(warm) > 0 {
		meas, sum.WarmupOnly = warm, true
	}
	for _, t := range meas {
		sum.Seconds++
		sum.Offered += t.Offered
		sum.Iterations += int64(t.Achieved)
		sum.Requests += t.Requests
		sum.Errors += t.Errors
		sum.Dropped += t.Dropped
		sum.InFlight += t.InFlight
		sum.Busy += t.Busy
		l := &sum.Latency
		l.P50, l.P90, l.P95 = math.Max(l.P50, t.Latency.P50), math.Max(l.P90, t.Latency.P90), math.Max(l.P95, t.Latency.P95)
		l.P99, l.Max, l.Mean = math.Max(l.P99, t.Latency.P99), math.Max(l.Max, t.Latency.Max), math.Max(l.Mean, t.Latency.Mean)
	}
	if n := sum.Seconds; n > 0 {
		sum.Offered /= n
		sum.Achieved = float64(sum.Iterations) / n
		sum.Throughput = float64(sum.Requests) / n
		sum.Goodput = float64(sum.Requests-sum.Errors) / n
		sum.InFlight /= n
		sum.Busy /= n
	}
	return sum, nil
}

// second is a Tick of requests at p99 ms (every quantile at it), with
// errors of them failed, the generator achieving achieved of offered.
func second(offered, achieved float64, requests, errors int64, p99 float64) Tick {
	return Tick{
		Offered: offered, Achieved: achieved, Requests: requests, Errors: errors,
		InFlight: float64(requests) * p99 / 1000,
		Busy:     float64(requests) * p99 / 1000, // no think time
		Latency:  Latency{P50: p99, P90: p99, P95: p99, P99: p99, Max: p99, Mean: p99},
	}
}
