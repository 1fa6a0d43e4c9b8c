package generator

import (
	"context"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
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
	if len(lengths) != 2 || len(secs) != 2 {
		t.Errorf("%d windows of %v for a 2 s run, want 2", len(lengths), lengths)
	}
	for i, d := range lengths {
		if d < minWindow || d > time.Second+minWindow {
			t.Errorf("window %d lasted %v (of %v), want %v to %v", i, d, lengths, minWindow, time.Second+minWindow)
		}
		if i < len(secs) && secs[i].Duration != d {
			t.Errorf("window %d: Duration %v, but it lasted %v", i, secs[i].Duration, d)
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

// collectorAt is a collector of a run of plan p (not sent) that started at
// start, driven by hand.
func collectorAt(t *testing.T, p *plan.Plan, start time.Time) (*engine, *collector, *[]Second) {
	t.Helper()
	e, err := newEngine(context.Background(), p, Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.transport.CloseIdleConnections)
	e.start = start
	var secs []Second
	e.opts.OnSecond = func(s Second) {
		s.Total.Hist, s.ByName = nil, nil // valid only inside the call
		secs = append(secs, s)
	}
	return e, newCollector(e), &secs
}

func TestShortLastWindowJoinsThePreviousOne(t *testing.T) {
	start := time.Now()
	for _, tc := range []struct {
		name    string
		end     time.Duration
		windows []time.Duration
	}{
		{"sliver", 1003 * time.Millisecond, []time.Duration{1003 * time.Millisecond}},
		{"just short", 1249 * time.Millisecond, []time.Duration{1249 * time.Millisecond}},
		{"long enough", 1250 * time.Millisecond, []time.Duration{time.Second, 250 * time.Millisecond}},
		{"short run", 100 * time.Millisecond, []time.Duration{100 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, c, secs := collectorAt(t, newPlan("http://127.0.0.1:1", constant(10, 2*time.Second, 10)), start)
			sh := e.shards[0]
			at := func(d time.Duration) int64 { return start.Add(d).UnixNano() }
			sh.record(0, &outcome{us: 1000, status: 200, trace: [16]byte{1}, at: at(0)})
			sh.iterations.Add(1)
			if tc.end > time.Second {
				c.tick(start.Add(time.Second))
			}
			// The last moments: a slow request, a failed one, a dropped
			// iteration and a request cut off by the end of the run.
			sh.record(0, &outcome{us: 900_000, status: 200, trace: [16]byte{2}, at: at(tc.end)})
			sh.record(0, &outcome{us: 2000, status: 503, class: classStatus5xx, trace: [16]byte{3}, at: at(tc.end)})
			sh.iterations.Add(2)
			e.dropped.Add(1)
			e.cutoffs[0].Add(1)
			res := c.end(start.Add(tc.end))

			var got []time.Duration
			for _, s := range *secs {
				got = append(got, s.Duration)
			}
			if len(got) != len(tc.windows) || len(res.Seconds) != len(got) {
				t.Fatalf("windows %v (%d kept), want %v", got, len(res.Seconds), tc.windows)
			}
			for i := range got {
				if got[i] != tc.windows[i] {
					t.Errorf("windows %v, want %v", got, tc.windows)
				}
			}
			last, lastRec := (*secs)[len(got)-1], res.Seconds[len(got)-1]
			if len(got) == 1 && (last.Total.Requests != 3 || last.Iterations != 3) {
				t.Errorf("merged window: %d requests, %d iterations; want all 3 of each", last.Total.Requests, last.Iterations)
			}
			if last.Dropped != 1 || last.Total.Errors != 1 || last.Total.Classes["status_5xx"] != 1 || last.Total.Classes["cancelled"] != 1 {
				t.Errorf("last window: dropped %d, errors %d, classes %v; want the dropped iteration, the 503 and the cut-off request",
					last.Dropped, last.Total.Errors, last.Total.Classes)
			}
			if len(lastRec.Exemplars) == 0 || lastRec.Exemplars[0].LatencyMs != 900 || lastRec.HDR == "" {
				t.Errorf("last window exemplars %+v, want the 900 ms request first, and its histogram", lastRec.Exemplars)
			}
			if want := float64(last.Total.Requests) / tc.windows[len(got)-1].Seconds(); last.RequestRate() != want {
				t.Errorf("request rate %g, want %g (from the window's real duration)", last.RequestRate(), want)
			}
			s := res.Summary
			if s.Requests != 3 || s.Errors != 1 || s.Iterations != 3 || s.DroppedIterations != 1 || s.Classes["cancelled"] != 1 {
				t.Errorf("summary %+v, want 3 requests, 1 error, 3 iterations, 1 dropped, 1 cancelled", s)
			}
		})
	}
}
