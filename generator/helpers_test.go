package generator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// newPlan is a plan against base with one journey of one GET step.
func newPlan(base string, l plan.Load, journeys ...plan.Journey) *plan.Plan {
	if len(journeys) == 0 {
		journeys = []plan.Journey{{Name: "j", Weight: 1, Steps: []plan.Step{{Name: "get", Method: "GET", Path: "/"}}}}
	}
	return &plan.Plan{
		Version:  1,
		Name:     "test",
		Target:   plan.Target{BaseURL: base, Timeout: 5 * time.Second},
		Load:     l,
		Journeys: journeys,
		Abort:    plan.Abort{For: 10 * time.Second},
	}
}

// constant is an open-model profile of rate iterations/s for d.
func constant(rate float64, d time.Duration, maxVUs int) plan.Load {
	return plan.Load{Model: "open", MaxVUs: maxVUs, Start: rate, Stages: []plan.Stage{{Duration: d, Target: rate}}}
}

// okServer answers 200 "ok" to everything.
func okServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// mustRun runs p with opts under a generous deadline and fails on error.
func mustRun(t testing.TB, p *plan.Plan, opts Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if opts.Warn == nil {
		opts.Warn = func(msg string) { t.Logf("warning: %s", msg) }
	}
	res, err := Run(ctx, p, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func within(got, want, tol float64) bool {
	return got >= want*(1-tol) && got <= want*(1+tol)
}

func writeFileBytes(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
