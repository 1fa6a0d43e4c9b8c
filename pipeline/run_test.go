package pipeline

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// shop answers / and /item; it counts what it is sent.
func shop(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("ok\n"))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

const runPlan = `version: 1
name: pipeline-run
target:
  base_url: BASE
  allow: [127.0.0.1]
  timeout: 2s
slo:
  p95: 1s
  error_rate: 1%
load:
  model: open
  max_vus: 20
  start: RATE
  stages:
    - { duration: SECONDS, target: RATE }
journeys:
  - name: browse
    steps:
      - name: home
        get: /
      - name: item
        get: /item
`

func parsePlan(t *testing.T, text string, repl ...string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(strings.NewReplacer(repl...).Replace(text)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunKeepsEverySecondWithPerNameHistograms(t *testing.T) {
	srv, _ := shop(t)
	p := parsePlan(t, runPlan, "BASE", srv.URL, "RATE", "20", "SECONDS", "2s")
	var (
		mu      sync.Mutex
		windows []Window
		phases  []string
	)
	res, err := Run(context.Background(), p, Settings{}, Hooks{
		OnWindow: func(w Window) { mu.Lock(); windows = append(windows, w); mu.Unlock() },
		OnPhase:  func(ph string) { phases = append(phases, ph) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != KindRun || res.Plan != "pipeline-run" || res.Outcome != Passed {
		t.Fatalf("kind %q, plan %q, outcome %q; want run, pipeline-run, passed (slo %+v)", res.Kind, res.Plan, res.Outcome, res.SLO)
	}
	if !reflect.DeepEqual(phases, []string{PhaseRun}) {
		t.Errorf("phases %v, want [run] (the plan observes nothing)", phases)
	}
	if len(res.SLO) != 2 || !AllPass(res.SLO) {
		t.Errorf("slo %+v, want 2 objectives held", res.SLO)
	}
	// What OnWindow saw is what the result keeps.
	if len(windows) != len(res.Seconds) || len(windows) < 2 {
		t.Fatalf("%d windows told, %d kept; want the same, at least 2", len(windows), len(res.Seconds))
	}
	for i, w := range windows {
		if w.Phase != PhaseRun || w.Step != 0 || !reflect.DeepEqual(w.SecondRecord, res.Seconds[i]) {
			t.Errorf("window %d: phase %q step %d, or its record differs from the result's", i, w.Phase, w.Step)
		}
	}
	// Each name's histograms, merged over the run, give that name's
	// summary exactly.
	if len(res.ByName) != 2 {
		t.Fatalf("by_name %+v, want home and item", res.ByName)
	}
	for _, s := range res.ByName {
		h, err := generator.Merged(res.Seconds, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if h.TotalCount() != s.Requests || generator.LatencyOf(h) != s.Latency {
			t.Errorf("%s: merged windows hold %d requests, latency %+v; summary says %d, %+v", s.Name, h.TotalCount(), generator.LatencyOf(h), s.Requests, s.Latency)
		}
	}

	b := checkDocument(t, res)
	a, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != KindRun || a.Run == nil || a.Study != nil || a.Run.Outcome != Passed || len(a.Run.Seconds) != len(res.Seconds) {
		t.Fatalf("decoded %+v", a)
	}
	// The decoded run has no live histogram; its windows rebuild it, and
	// the objectives read the same values.
	if got := Evaluate(p.Objectives(), a.Run.Result); !reflect.DeepEqual(got, res.SLO) {
		t.Errorf("objectives of the decoded run %+v, of the run %+v", got, res.SLO)
	}
}

// TestOnMeasuredComesBeforeTheFindings proves a run's numbers are handed
// over once the load has ended and its objectives are checked, before the
// findings are read: OnMeasured sees the final outcome, SLOs and windows,
// no correlation yet, and comes before the correlate phase; the result
// Run returns is the same one, with its correlation attached.
func TestOnMeasuredComesBeforeTheFindings(t *testing.T) {
	srv, _ := shop(t)
	observe := "observe:\n  prometheus: http://127.0.0.1:1\n  service: shop\n"
	p := parsePlan(t, runPlan+observe, "BASE", srv.URL, "RATE", "20", "SECONDS", "2s")
	var (
		told     []string
		measured *RunResult
		seen     RunResult // a copy of what OnMeasured was given
	)
	res, err := Run(context.Background(), p, Settings{}, Hooks{
		OnPhase: func(ph string) { told = append(told, ph) },
		OnMeasured: func(r *RunResult) {
			told = append(told, "measured")
			measured, seen = r, *r
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{PhaseRun, "measured", PhaseCorrelate}; !reflect.DeepEqual(told, want) {
		t.Fatalf("hooks told %v, want %v", told, want)
	}
	if measured != res {
		t.Errorf("OnMeasured got another result than Run returned")
	}
	if seen.Outcome != Passed || len(seen.SLO) != 2 || len(seen.Seconds) < 2 || seen.Correlation != nil || len(seen.Findings) != 0 {
		t.Errorf("OnMeasured saw outcome %q, %d SLOs, %d windows, correlation %v; want passed, 2, ≥2, none yet",
			seen.Outcome, len(seen.SLO), len(seen.Seconds), seen.Correlation)
	}
	if res.Correlation == nil {
		t.Errorf("Run returned no correlation; the plan observes a Prometheus (even one that is not there)")
	}
}

func TestRunCancelledKeepsWhatItHas(t *testing.T) {
	srv, _ := shop(t)
	p := parsePlan(t, runPlan, "BASE", srv.URL, "RATE", "20", "SECONDS", "30s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Run(ctx, p, Settings{}, Hooks{OnWindow: func(Window) { cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Cancelled || len(res.Seconds) == 0 || len(res.Seconds) > 5 {
		t.Errorf("outcome %q with %d windows; want cancelled after the first few", res.Outcome, len(res.Seconds))
	}
}

func TestRunMaxRateCapsThePlan(t *testing.T) {
	srv, _ := shop(t)
	p := parsePlan(t, runPlan, "BASE", srv.URL, "RATE", "50", "SECONDS", "1s")
	var warnings []string
	res, err := Run(context.Background(), p, Settings{MaxRate: 5, NoCorrelate: true}, Hooks{Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.CappedAt != 5 {
		t.Errorf("capped at %g, want the setting's 5/s", res.CappedAt)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "max_rate") {
		t.Errorf("warnings %q, want one about the cap", warnings)
	}
	if p.Abort.MaxRate != 0 {
		t.Errorf("the caller's plan was changed: abort.max_rate %g", p.Abort.MaxRate)
	}
}

func TestBadSettingsAreRefusedBeforeAnyLoad(t *testing.T) {
	srv, hits := shop(t)
	p := parsePlan(t, runPlan, "BASE", srv.URL, "RATE", "20", "SECONDS", "1s")
	tests := []struct {
		name   string
		kind   Kind
		s      Settings
		fields []string
	}{
		{"host not allowed", KindRun, Settings{BaseURL: "http://example.com"}, []string{"base_url"}},
		{"not http", KindRun, Settings{BaseURL: "ftp://127.0.0.1"}, []string{"base_url"}},
		{"verify host", KindStudy, Settings{VerifyURL: "http://example.com:8080"}, []string{"verify_url"}},
		{"two problems", KindStudy, Settings{StepDuration: 10_000_000, Instances: -1}, []string{"instances", "step_duration"}},
		{"negative cap", KindRun, Settings{MaxRate: -1}, []string{"max_rate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.kind == KindRun {
				_, err = Run(context.Background(), p, tt.s, Hooks{})
			} else {
				_, err = Study(context.Background(), p, tt.s, Hooks{})
			}
			var fields []string
			var one *plan.Error
			var all plan.Errors
			switch {
			case errors.As(err, &all):
				for _, e := range all {
					fields = append(fields, e.Field)
				}
			case errors.As(err, &one):
				fields = []string{one.Field}
			default:
				t.Fatalf("error %v (%T), want a *plan.Error or plan.Errors", err, err)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("fields %v, want %v (%v)", fields, tt.fields, err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent for bad settings", n)
	}
}
