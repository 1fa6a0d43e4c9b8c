package generator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// hangingServer answers the first fail requests 500 at once and holds every
// later one until the client gives up; arrived is closed when hang of those
// are held.
func hangingServer(t *testing.T, fail, hang int64) (srv *httptest.Server, arrived <-chan struct{}) {
	t.Helper()
	var n atomic.Int64
	ch := make(chan struct{})
	release := make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if k <= fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if k == fail+hang {
			close(ch)
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv, ch
}

// cancelledIn sums the cancelled class over the kept windows.
func cancelledIn(res *Result) int64 {
	var n int64
	for _, w := range res.Seconds {
		n += w.Classes["cancelled"]
	}
	return n
}

func TestCancelCountsTheRequestsItCutOff(t *testing.T) {
	srv, arrived := hangingServer(t, 0, 3)
	l := plan.Load{Model: "closed", Start: 3, Stages: []plan.Stage{{Duration: 30 * time.Second, Target: 3}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		select {
		case <-arrived:
		case <-time.After(20 * time.Second):
		}
		cancel()
	}()
	res, err := Run(ctx, newPlan(srv.URL, l), Options{Warn: func(msg string) { t.Log(msg) }})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if got := cancelledIn(res); got != 3 || s.Classes["cancelled"] != 3 {
		t.Errorf("cancelled: %d in the windows, %d in the summary; want the 3 requests in flight", got, s.Classes["cancelled"])
	}
	if s.Requests != 0 || s.Errors != 0 || s.ErrorRate != 0 {
		t.Errorf("requests %d, errors %d, error rate %g; want cut-off requests to count as neither", s.Requests, s.Errors, s.ErrorRate)
	}
	if len(res.ByName) != 1 || res.ByName[0].Classes["cancelled"] != 3 {
		t.Errorf("by name = %+v, want 3 cancelled under get", res.ByName)
	}
}

func TestAbortCountsTheRequestsItCutOff(t *testing.T) {
	// Three users: their first requests fail (500), their second ones hang
	// until the error-rate rule stops the run and cuts them off.
	srv, _ := hangingServer(t, 3, 3)
	l := plan.Load{Model: "closed", Start: 3, Stages: []plan.Stage{{Duration: 30 * time.Second, Target: 3}}}
	p := newPlan(srv.URL, l)
	half := 0.5
	p.Abort = plan.Abort{ErrorRate: &half, For: time.Second}
	res := mustRun(t, p, Options{})
	if res.Aborted == "" {
		t.Fatalf("the run was not aborted: %+v", res.Summary)
	}
	s := res.Summary
	t.Logf("aborted after %v: %s", res.End.Sub(res.Start), res.Aborted)
	for _, w := range res.Seconds {
		t.Logf("window %v: %d requests %v, %d iterations", w.Start.Sub(res.Start), w.Requests, w.Classes, w.Iterations)
	}
	if got := cancelledIn(res); got != 3 || s.Classes["cancelled"] != 3 {
		t.Errorf("cancelled: %d in the windows, %d in the summary; want the 3 requests in flight", got, s.Classes["cancelled"])
	}
	if s.Requests != 3 || s.Errors != 3 || s.Classes["status_5xx"] != 3 {
		t.Errorf("requests %d, errors %d (%v); want the 3 failed requests only", s.Requests, s.Errors, s.Classes)
	}
}
