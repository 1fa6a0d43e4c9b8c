package generator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(ents)
}

// fdsBackTo polls until at most want descriptors are open, and reports how
// many there were at the end.
func fdsBackTo(t *testing.T, want int) (int, bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n := openFDs(t)
		if n <= want || time.Now().After(deadline) {
			return n, n <= want
		}
		<-tick.C
	}
}

func TestOwnConnectionsAreAllClosedAfterARun(t *testing.T) {
	t.Setenv("HEADROOM_HTTP_CLIENT", "")
	// No collection during the test: a connection dropped without Close
	// would otherwise be closed by its finalizer and pass unseen.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	fast := okServer(t)
	held := make(chan struct{})
	t.Cleanup(func() { close(held) })
	// slow holds every request until the client gives up.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-held:
		}
	}))
	t.Cleanup(slow.Close)
	users := 64
	closed := plan.Load{Model: "closed", Start: float64(users), Stages: []plan.Stage{{Duration: time.Second, Target: float64(users)}}}
	cases := []struct {
		name    string
		p       *plan.Plan
		timeout time.Duration // the run's own context; 0 lets it run to its end
	}{
		{"kept-alive connections at the end", newPlan(fast.URL, closed), 0},
		{"requests that time out", newPlan(slow.URL, closed), 0},
		{"requests a cancel cuts off", newPlan(slow.URL, closed), 300 * time.Millisecond},
		{"open model pool", newPlan(fast.URL, constant(400, time.Second, users)), 0},
	}
	cases[1].p.Target.Timeout = 100 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := openFDs(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			if tc.timeout > 0 {
				cancel()
				ctx, cancel = context.WithTimeout(t.Context(), tc.timeout)
			}
			defer cancel()
			res, err := Run(ctx, tc.p, Options{Warn: func(msg string) { t.Log(msg) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Summary.Requests+res.Summary.Classes["cancelled"] == 0 {
				t.Fatalf("no request was sent: %+v", res.Summary)
			}
			if n, ok := fdsBackTo(t, before); !ok {
				t.Errorf("%d files open after the run, %d before", n, before)
			}
		})
	}
}
