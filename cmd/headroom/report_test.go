package main

import (
	"bytes"
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

const (
	studyDoc     = "../../report/testdata/study.json"
	slowStudyDoc = "../../report/testdata/study-slow.json"
	reportPlan   = "../../report/testdata/plan.yaml"
)

func runReport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = dispatch(append([]string{"report"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestReportWritesEachFormat(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file, want string
	}{
		{"study.html", "<!DOCTYPE html>"},
		{"study.md", "# Capacity study: shop-checkout-readiness"},
		{"study.xml", "<testsuites"},
	} {
		out := filepath.Join(dir, tc.file)
		// flags after the document, as the issue writes the command
		code, _, stderr := runReport(t, studyDoc, "--plan", reportPlan, "-o", out)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.file, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %v; does not contain %q", tc.file, err, tc.want)
		}
		if !strings.Contains(stderr, "wrote "+out) || !strings.Contains(stderr, "Ready for the launch load") {
			t.Errorf("%s: stderr %q does not say where and what", tc.file, stderr)
		}
	}
	if pngs, _ := filepath.Glob(filepath.Join(dir, "study-charts", "*.png")); len(pngs) < 5 {
		t.Errorf("Markdown charts beside it: %v", pngs)
	}
	code, stdout, _ := runReport(t, "--format", "junit", studyDoc)
	if code != exitOK || !strings.HasPrefix(stdout, "<?xml") {
		t.Errorf("junit to stdout: exit %d, %q", code, stdout[:min(len(stdout), 80)])
	}
}

func TestReportGateExitCodes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "slow.md")
	code, _, stderr := runReport(t, slowStudyDoc, "--baseline", studyDoc, "--max-regression", "10%", "-o", out)
	if code != exitFailed {
		t.Fatalf("a 30%% slower study passed the gate: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "gate: regression against") {
		t.Errorf("stderr does not name the regression: %s", stderr)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "**Gate: FAIL.**") {
		t.Error("the report written before the exit does not show the failed gate")
	}
	code, _, stderr = runReport(t, studyDoc, "--baseline", studyDoc, "-o", filepath.Join(dir, "same.xml"))
	if code != exitOK || !strings.Contains(stderr, "gate: no significant regression") {
		t.Errorf("an unchanged rerun: exit %d: %s", code, stderr)
	}
}

func TestReportUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{studyDoc, studyDoc},
		{"--format", "docx", studyDoc},
		{"--paper", "A3", studyDoc},
		{"--max-regression", "lots", studyDoc},
		{"missing.json"},
		{"--baseline", "missing.json", studyDoc},
		{"--plan", "missing.yaml", studyDoc},
	} {
		if code, _, _ := runReport(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// `headroom run --baseline` exits 1 when the same plan got 40 ms slower
// than its baseline run (p50 to p99 move far beyond 10%, over 8 seconds
// each: significant on any machine), and says what regressed.
func TestRunBaselineGateFailsASlowerTarget(t *testing.T) {
	var delay atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	plan := writePlan(t, `version: 1
name: gate-test
target: { base_url: BASE }
load:
  model: open
  start: 10
  stages: [ { duration: 8s, target: 10 } ]
journeys:
  - name: j
    steps: [ { name: home, get: / } ]
`, srv.URL)
	base := filepath.Join(t.TempDir(), "base.json")
	if code, stdout, stderr := runHeadroom(t, "--quiet", "--no-correlate", "--out", base, plan); code != exitOK {
		t.Fatalf("baseline run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	delay.Store(int64(40 * time.Millisecond))
	code, stdout, stderr := runHeadroom(t, "--quiet", "--no-correlate", "--baseline", base, "--max-regression", "10%", plan)
	if code != exitFailed {
		t.Fatalf("a 40 ms slower target: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "gate: REGRESSION against "+base) || !strings.Contains(stdout, "✗ all p95") {
		t.Errorf("the summary does not say what regressed:\n%s", stdout)
	}
}

// A bad --baseline or --max-regression is refused before any load: the
// plan would run for an hour.
func TestGateFlagsAreCheckedBeforeAnyLoad(t *testing.T) {
	plan := writePlan(t, "version: 1\nname: x\ntarget: { base_url: http://127.0.0.1:1 }\nload:\n  model: open\n  stages: [ { duration: 1h, target: 1 } ]\njourneys:\n  - name: j\n    steps: [ { get: / } ]\n", "")
	for _, tc := range []struct {
		cmd  string
		args []string
		want string
	}{
		{"run", []string{"--baseline", "missing.json", plan}, "--baseline"},
		{"run", []string{"--baseline", studyDoc, plan}, "is a study, not a run"},
		{"run", []string{"--max-regression", "ten", plan}, "--max-regression"},
		{"capacity", []string{"--baseline", "missing.json", plan}, "--baseline"},
	} {
		var out, errOut bytes.Buffer
		code := dispatch(append([]string{tc.cmd}, tc.args...), &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s %v: exit %d, stderr %q; want 2 and %q", tc.cmd, tc.args, code, errOut.String(), tc.want)
		}
	}
}

// Rule 6: --help states how the gate decides with many request names.
func TestGateRuleInHelp(t *testing.T) {
	for name, cmd := range map[string]func([]string, io.Writer, io.Writer) int{"report": reportCmd, "run": runCmd, "capacity": capacityCmd} {
		var out, errs bytes.Buffer
		cmd([]string{"--help"}, &out, &errs)
		help := errs.String() + out.String()
		for _, want := range []string{"Holm–Bonferroni", "bracket comparison (no test, no p-value)"} {
			if !strings.Contains(help, want) {
				t.Errorf("headroom %s --help lacks %q", name, want)
			}
		}
	}
}
