package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// checkoutShop is a tiny checkout API: login → token, add to cart (Bearer token) →
// cart_id, then the cart by id.
func checkoutShop(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(`"user":"u1@example.com"`)) {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"token":"tok-1"}`)
	})
	mux.HandleFunc("POST /cart/items", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"cart_id":"c42"}`)
	})
	mux.HandleFunc("GET /cart/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "c42" || r.Header.Get("Authorization") != "Bearer tok-1" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"id":"c42","state":"open"}`)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(30 * time.Millisecond):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const checkoutPlan = `version: 1
name: checkout-test
target:
  base_url: BASE
  timeout: 2s
slo:
  p95: 500ms
  error_rate: 1%
  min_throughput: 10/s
load:
  model: open
  max_vus: 50
  start: 20
  stages:
    - { duration: 2s, target: 20 }
data:
  users: { csv: users.csv }
journeys:
  - name: checkout
    steps:
      - name: login
        post: /login
        json: { user: "{{ .data.users.email }}" }
        extract: { token: token }
      - name: add to cart
        post: /cart/items
        headers: { Authorization: "Bearer {{ .vars.token }}" }
        json: { product_id: "{{ randInt 1 100 }}", quantity: 1 }
        expect: { status: 201 }
        extract: { cart_id: cart_id }
      - name: view cart
        get: /cart/{{ .vars.cart_id }}
        headers: { Authorization: "Bearer {{ .vars.token }}" }
        expect: { status: 200, json: { state: open } }
`

// writePlan writes a plan (BASE replaced by base) and a users.csv beside it.
func writePlan(t *testing.T, text, base string) string {
	t.Helper()
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("email,password\n")
	for range 100 {
		csv.WriteString("u1@example.com,pw\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "BASE", base)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runHeadroom(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = dispatch(append([]string{"run"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunCheckoutJourneyPassesItsSLOs(t *testing.T) {
	srv := checkoutShop(t)
	path := writePlan(t, checkoutPlan, srv.URL)
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := runHeadroom(t, "--quiet", path, "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"login", "add to cart", "view cart", "all", "dropped 0", "✓ p95", "✓ error_rate", "✓ min_throughput"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "VUs") {
		t.Errorf("--quiet still printed progress: %q", stderr)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Summary struct {
			Requests          *int64   `json:"requests"`
			Errors            *int64   `json:"errors"`
			ThroughputRPS     *float64 `json:"throughput_rps"`
			DroppedIterations *int64   `json:"dropped_iterations"`
			Latency           struct {
				P50, P95, P99, Max *float64
			} `json:"latency_ms"`
		} `json:"summary"`
		SLO []struct {
			Name      string   `json:"name"`
			Threshold string   `json:"threshold"`
			Value     *float64 `json:"value"`
			Pass      *bool    `json:"pass"`
		} `json:"slo"`
		Windows []struct {
			Requests int64  `json:"requests"`
			HDR      string `json:"hdr"`
		} `json:"windows"`
	}
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatalf("run.json: %v", err)
	}
	s := report.Summary
	if s.Requests == nil || *s.Requests < 100 || s.Errors == nil || *s.Errors != 0 || s.ThroughputRPS == nil || *s.ThroughputRPS <= 0 ||
		s.DroppedIterations == nil || s.Latency.P50 == nil || s.Latency.P95 == nil || s.Latency.P99 == nil || s.Latency.Max == nil {
		t.Errorf("summary fields missing or wrong in run.json:\n%s", raw[:min(len(raw), 800)])
	}
	if *s.Requests != 3*40 {
		t.Errorf("requests = %d, want 120 (40 iterations × 3 steps)", *s.Requests)
	}
	if len(report.SLO) != 3 {
		t.Fatalf("slo = %+v, want 3 objectives", report.SLO)
	}
	for _, o := range report.SLO {
		if o.Name == "" || o.Threshold == "" || o.Value == nil || o.Pass == nil || !*o.Pass {
			t.Errorf("slo entry %+v: want name, threshold, value and pass=true", o)
		}
	}
	var windowed int64
	for _, w := range report.Windows {
		windowed += w.Requests
	}
	if len(report.Windows) < 2 || windowed != *s.Requests || report.Windows[0].HDR == "" {
		t.Errorf("%d windows holding %d requests (want ≥ 2 holding %d, with hdr)", len(report.Windows), windowed, *s.Requests)
	}
}

func TestRunFailingSLOExitsOne(t *testing.T) {
	srv := checkoutShop(t)
	plan := strings.Replace(checkoutPlan, "p95: 500ms", "p95: 5ms", 1)
	plan = strings.Replace(plan, "get: /cart/{{ .vars.cart_id }}", "get: /slow", 1)
	plan = strings.Replace(plan, "expect: { status: 200, json: { state: open } }", "expect: { status: 200 }", 1)
	code, stdout, stderr := runHeadroom(t, "--quiet", writePlan(t, plan, srv.URL))
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "✗ p95") || !strings.Contains(stdout, "✓ error_rate") {
		t.Errorf("summary should fail p95 and pass error_rate:\n%s", stdout)
	}
}

func TestRunAbortRuleExitsThree(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	plan := `version: 1
name: abort-test
target: { base_url: BASE }
load:
  model: open
  stages: [ { duration: 20s, target: 20 } ]
  start: 20
abort:
  error_rate: 50%
  for: 2s
journeys:
  - name: j
    steps: [ { name: home, get: / } ]
`
	start := time.Now()
	code, stdout, stderr := runHeadroom(t, "--quiet", writePlan(t, plan, srv.URL))
	if code != exitAborted {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the abort took %v to stop a 20 s run", took)
	}
	if !strings.Contains(stdout, "aborted: error rate 100.0% ≥ 50% for 2s") {
		t.Errorf("summary lacks the abort reason:\n%s", stdout)
	}
}

func TestRunBadPlanExitsTwoWithOneLine(t *testing.T) {
	plan := "version: 1\nname: bad\ntarget: { base_url: http://127.0.0.1:1 }\nload:\n  model: open\n  stages:\n    - { duration: 2x, target: 1 }\njourneys:\n  - name: j\n    steps: [ { get: / } ]\n"
	path := writePlan(t, plan, "")
	code, stdout, stderr := runHeadroom(t, path)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "headroom run: "+path+":7: ") {
		t.Errorf("stderr = %q, want one line starting %q", stderr, "headroom run: "+path+":7: ")
	}
}

func TestRunRefusesADisallowedBaseURL(t *testing.T) {
	path := writePlan(t, checkoutPlan, "http://127.0.0.1:1")
	code, _, stderr := runHeadroom(t, "--base-url", "http://example.com", path)
	if code != exitUsage || !strings.Contains(stderr, `"example.com" is not allowed`) {
		t.Errorf("exit %d, stderr %q; want 2 and a refusal naming the host", code, stderr)
	}
}

func TestRunUnknownFlagExitsTwo(t *testing.T) {
	code, _, stderr := runHeadroom(t, "--nope", "plan.yaml")
	if code != exitUsage || !strings.Contains(stderr, "nope") {
		t.Errorf("exit %d, stderr %q; want 2 naming the flag", code, stderr)
	}
}

func TestProgressLinePrintsEveryFiveSecondsOffATerminal(t *testing.T) {
	srv := checkoutShop(t)
	plan := strings.Replace(checkoutPlan, "{ duration: 2s, target: 20 }", "{ duration: 5s, target: 5 }", 1)
	plan = strings.Replace(plan, "min_throughput: 10/s", "min_throughput: 1/s", 1)
	code, _, stderr := runHeadroom(t, writePlan(t, plan, srv.URL))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "5s/5s  offered") || !strings.Contains(lines[0], "VUs") {
		t.Errorf("stderr = %q, want one progress line at 5s", stderr)
	}
}
