package generator

import (
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// peakServer answers every request after d (or when the client gives
// up) and keeps in peak the most requests it held at once.
func peakServer(t *testing.T, d time.Duration) (srv *httptest.Server, peak *atomic.Int64) {
	var active atomic.Int64
	peak = new(atomic.Int64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := active.Add(1)
		defer active.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv, peak
}

func TestClosedRampsVirtualUsers(t *testing.T) {
	srv, peak := peakServer(t, 20*time.Millisecond)
	l := plan.Load{Model: "closed", Stages: []plan.Stage{
		{Duration: 1 * time.Second, Target: 4}, // ramp 0→4 users
		{Duration: 1 * time.Second, Target: 4}, // hold
		{Duration: 1 * time.Second, Target: 1}, // ramp down to 1
	}}
	res := mustRun(t, newPlan(srv.URL, l), Options{})
	if len(res.Seconds) < 3 {
		t.Fatalf("%d windows, want ≥ 3", len(res.Seconds))
	}
	if got := peak.Load(); got != 4 {
		t.Errorf("peak concurrent requests at the server = %d, want 4", got)
	}
	first, hold := res.Seconds[0], res.Seconds[1]
	if hold.VUs != 4 {
		t.Errorf("users at the end of the hold = %d, want 4", hold.VUs)
	}
	if first.Requests >= hold.Requests {
		t.Errorf("ramp second sent %d requests, hold second %d; want fewer while ramping", first.Requests, hold.Requests)
	}
	if !within(hold.Offered, 4, 0.01) || !within(first.Offered, 2, 0.01) {
		t.Errorf("offered %.2f then %.2f users, want 2 then 4", first.Offered, hold.Offered)
	}
	if res.Summary.Errors != 0 {
		t.Errorf("errors = %d, want 0", res.Summary.Errors)
	}
}

// countingServer counts requests per path.
type countingServer struct {
	mu    sync.Mutex
	paths map[string]int
	times []time.Time
}

func (c *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.paths[r.URL.Path]++
	c.times = append(c.times, time.Now())
	c.mu.Unlock()
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func newCounting(t *testing.T) (*countingServer, *httptest.Server) {
	c := &countingServer{paths: map[string]int{}}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv
}

// busy is a closed model of a few users with no think time: as many
// iterations as the machine allows, none dropped.
func busy(d time.Duration) plan.Load {
	return plan.Load{Model: "closed", Start: 4, Stages: []plan.Stage{{Duration: d, Target: 4}}}
}

// binomialOK reports whether k successes of n trials fit probability p
// within 4.5 standard deviations.
func binomialOK(k, n int, p float64) bool {
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(k)-float64(n)*p) <= 4.5*sd
}

func TestJourneysArePickedByWeight(t *testing.T) {
	c, srv := newCounting(t)
	p := newPlan(srv.URL, busy(1500*time.Millisecond),
		plan.Journey{Name: "browse", Weight: 10, Steps: []plan.Step{{Name: "browse", Method: "GET", Path: "/browse"}}},
		plan.Journey{Name: "buy", Weight: 1, Steps: []plan.Step{{Name: "buy", Method: "GET", Path: "/buy"}}},
	)
	res := mustRun(t, p, Options{})
	browse, buy := c.paths["/browse"], c.paths["/buy"]
	n := browse + buy
	if n < 300 {
		t.Fatalf("only %d iterations", n)
	}
	if !binomialOK(buy, n, 1.0/11) {
		t.Errorf("browse:buy = %d:%d, want about 10:1", browse, buy)
	}
	if len(res.ByName) != 2 || res.ByName[0].Name != "browse" || res.ByName[1].Name != "buy" {
		t.Errorf("by name = %+v, want browse and buy", res.ByName)
	}
}

func TestChanceRunsAStepWithItsProbability(t *testing.T) {
	c, srv := newCounting(t)
	p := newPlan(srv.URL, busy(1500*time.Millisecond), plan.Journey{Name: "j", Steps: []plan.Step{
		{Name: "always", Method: "GET", Path: "/always"},
		{Name: "sometimes", Method: "GET", Path: "/sometimes", Chance: 0.3},
	}})
	mustRun(t, p, Options{})
	always, sometimes := c.paths["/always"], c.paths["/sometimes"]
	if always < 300 {
		t.Fatalf("only %d iterations", always)
	}
	if !binomialOK(sometimes, always, 0.3) {
		t.Errorf("the chance step ran in %d of %d iterations, want about 0.3", sometimes, always)
	}
}

func TestThinkTimeStaysInItsRange(t *testing.T) {
	// The server notes when it starts each request and, just before, when it
	// answered the previous one: a delay in either note can only lengthen
	// the gap, so gap ≥ think time holds however busy the machine is.
	var mu sync.Mutex
	var gaps []time.Duration
	var answered time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !answered.IsZero() {
			gaps = append(gaps, time.Since(answered))
		}
		answered = time.Now()
		mu.Unlock()
	}))
	defer srv.Close()
	l := plan.Load{Model: "closed", Start: 1, Stages: []plan.Stage{{Duration: 1500 * time.Millisecond, Target: 1}}}
	p := newPlan(srv.URL, l, plan.Journey{Name: "j", Steps: []plan.Step{
		{Name: "get", Method: "GET", Path: "/", Think: plan.Range{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}},
	}})
	mustRun(t, p, Options{})
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) < 9 {
		t.Fatalf("%d requests in 1.5 s with 50–100 ms think, want ≥ 10", len(gaps)+1)
	}
	var long int
	for _, g := range gaps {
		if g < 50*time.Millisecond {
			t.Errorf("gap of %v, shorter than the 50 ms minimum think time (%v)", g, gaps)
		}
		if g > 100*time.Millisecond {
			long++
		}
	}
	// A loaded machine may stretch a gap past 100 ms, but not most of them.
	if long > len(gaps)/3 {
		t.Errorf("%d of %d gaps longer than 100 ms", long, len(gaps))
	}
}
