package generator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

func TestOpenConstantRateSendsTheIntegral(t *testing.T) {
	srv := okServer(t)
	res := mustRun(t, newPlan(srv.URL, constant(200, 3*time.Second, 1000)), Options{})
	s := res.Summary
	if !within(float64(s.Iterations), 600, 0.05) {
		t.Errorf("iterations = %d, want 600 ±5%%", s.Iterations)
	}
	if s.Requests != s.Iterations || s.Errors != 0 || s.DroppedIterations != 0 {
		t.Errorf("requests %d, errors %d, dropped %d; want one request per iteration, no errors, none dropped", s.Requests, s.Errors, s.DroppedIterations)
	}
	if len(res.Seconds) < 3 {
		t.Fatalf("got %d windows, want ≥ 3", len(res.Seconds))
	}
	// Each of the three windows holds one second of the profile: 200 due.
	// The last one also holds the drain after the profile (it is longer,
	// and nothing is due in it), so compare what was due, not the rate.
	for _, w := range res.Seconds[:3] {
		if due := w.Offered * w.DurationS; !within(due, 200, 0.01) {
			t.Errorf("window of %.3f s offered %.1f/s: %.1f due, want 200", w.DurationS, w.Offered, due)
		}
	}
}

func TestOpenRampSendsTheIntegral(t *testing.T) {
	srv := okServer(t)
	l := plan.Load{Model: "open", MaxVUs: 1000, Stages: []plan.Stage{
		{Duration: 2 * time.Second, Target: 200}, // 0→200/s: 200 iterations
		{Duration: 1 * time.Second, Target: 100}, // 200→100/s: 150 iterations
	}}
	res := mustRun(t, newPlan(srv.URL, l), Options{})
	if got := res.Summary.Iterations; !within(float64(got), 350, 0.05) {
		t.Errorf("iterations = %d, want 350 ±5%%", got)
	}
	// The schedule follows the ramp: the first second is due 50, the second 150.
	first, second := res.Seconds[0], res.Seconds[1]
	if !within(first.Offered, 50, 0.01) || !within(second.Offered, 150, 0.01) {
		t.Errorf("offered %.1f and %.1f in the first two seconds, want 50 and 150", first.Offered, second.Offered)
	}
	if first.Iterations >= second.Iterations {
		t.Errorf("first second started %d iterations, second %d; want the ramp to rise", first.Iterations, second.Iterations)
	}
}

func TestOpenDropsIterationsWithoutAFreeUser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(100 * time.Millisecond): // a slow service
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	res := mustRun(t, newPlan(srv.URL, constant(50, 2*time.Second, 1)), Options{})
	s := res.Summary
	if s.Iterations+s.DroppedIterations != 100 {
		t.Errorf("iterations %d + dropped %d ≠ 100 due", s.Iterations, s.DroppedIterations)
	}
	// One user at 100 ms per iteration serves ≤ 10/s of the 50/s due.
	if s.DroppedIterations < 60 || s.Iterations > 25 {
		t.Errorf("dropped %d, served %d; want ≥ 60 dropped and ≤ 25 served", s.DroppedIterations, s.Iterations)
	}
	if res.Seconds[0].VUs != 1 {
		t.Errorf("VUs = %d, want 1", res.Seconds[0].VUs)
	}
}

func TestAbortOnP99StopsTheRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(120 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	p := newPlan(srv.URL, constant(20, 20*time.Second, 100))
	p.Abort = plan.Abort{P99: 100 * time.Millisecond, For: 2 * time.Second}
	res := mustRun(t, p, Options{})
	if !strings.HasPrefix(res.Aborted, "p99 ") || !strings.HasSuffix(res.Aborted, " ≥ 100ms for 2s") {
		t.Errorf("aborted = %q, want a p99 reason", res.Aborted)
	}
	if d := res.End.Sub(res.Start); d > 8*time.Second {
		t.Errorf("the run lasted %v after the p99 limit held for 2 s", d)
	}
}

func TestCancelReturnsWhatItHas(t *testing.T) {
	srv := okServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var seconds int
	res, err := Run(ctx, newPlan(srv.URL, constant(50, time.Minute, 20)), Options{OnSecond: func(Second) {
		seconds++
		if seconds == 2 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.End.Sub(res.Start); d > 10*time.Second || res.Summary.Requests < 50 {
		t.Errorf("cancelled run lasted %v with %d requests; want it to stop soon with what it had", d, res.Summary.Requests)
	}
}

// A virtual user is busy for its whole iteration, think time included:
// one user that sends a fast request and then thinks 400 ms is busy
// nearly all the time while almost never having a request in flight.
func TestOpenBusyUsersCountThinkTime(t *testing.T) {
	srv := okServer(t)
	j := plan.Journey{Name: "j", Weight: 1, Steps: []plan.Step{{
		Name: "get", Method: "GET", Path: "/",
		Think: plan.Range{Min: 400 * time.Millisecond, Max: 400 * time.Millisecond},
	}}}
	res := mustRun(t, newPlan(srv.URL, constant(10, 3*time.Second, 1), j), Options{})
	w := res.Seconds[1] // a whole second with the one user long started
	if w.Busy < 0.8 || w.Busy > 1 {
		t.Errorf("busy users %.2f in the second second, want about 1 (the one user, thinking)", w.Busy)
	}
	if w.InFlight >= w.Busy/2 {
		t.Errorf("in flight %.2f against busy %.2f: the think time should leave requests in flight far fewer than busy users", w.InFlight, w.Busy)
	}
	if res.Summary.DroppedIterations == 0 {
		t.Errorf("no iteration dropped: one user at ≥ 400 ms an iteration cannot serve 10/s")
	}
}
