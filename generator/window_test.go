package generator

import (
	"testing"
	"time"
)

// windowLengths returns how long each kept window of res lasted: up to the
// next window's start, the last one up to the end of the run.
func windowLengths(res *Result) []time.Duration {
	out := make([]time.Duration, len(res.Seconds))
	for i, w := range res.Seconds {
		end := res.End
		if i+1 < len(res.Seconds) {
			end = res.Seconds[i+1].Start
		}
		out[i] = end.Sub(w.Start)
	}
	return out
}

func TestLastWindowIsNeverASliver(t *testing.T) {
	// The profile ends on a second boundary and the run a few milliseconds
	// later, once the requests in flight are answered: without merging, the
	// last window would hold those milliseconds and almost no requests.
	srv := okServer(t)
	var secs []Second
	res := mustRun(t, newPlan(srv.URL, constant(100, 2*time.Second, 50)), Options{
		OnSecond: func(s Second) { secs = append(secs, s) },
	})
	lengths := windowLengths(res)
	if len(lengths) != 2 {
		t.Errorf("%d windows of %v for a 2 s run, want 2", len(lengths), lengths)
	}
	for i, d := range lengths {
		if d < 250*time.Millisecond {
			t.Errorf("window %d lasted %v (of %v), want ≥ 250 ms", i, d, lengths)
		}
	}
	var reqs, iters, errs, bytes int64
	for _, w := range res.Seconds {
		reqs += w.Requests
		iters += w.Iterations
		errs += w.Errors
		bytes += w.Bytes
	}
	s := res.Summary
	if reqs != s.Requests || iters != s.Iterations || errs != s.Errors || bytes != s.Bytes {
		t.Errorf("windows sum to %d requests, %d iterations, %d errors, %d bytes; summary says %d, %d, %d, %d",
			reqs, iters, errs, bytes, s.Requests, s.Iterations, s.Errors, s.Bytes)
	}
	if !within(float64(s.Requests), 200, 0.05) {
		t.Errorf("%d requests, want 200 ±5%%", s.Requests)
	}
	last := res.Seconds[len(res.Seconds)-1]
	if rate := float64(last.Requests) / lengths[len(lengths)-1].Seconds(); !within(rate, 100, 0.2) {
		t.Errorf("last window: %d requests in %v = %.1f/s, want about 100/s", last.Requests, lengths[len(lengths)-1], rate)
	}
}
