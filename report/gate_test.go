package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseRegression(t *testing.T) {
	for in, want := range map[string]float64{"10%": 0.10, "0.1": 0.10, "10": 0.10, " 30% ": 0.30, "2.5%": 0.025} {
		got, err := ParseRegression(in)
		if err != nil || abs(got-want) > 1e-12 {
			t.Errorf("ParseRegression(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-5%", "0", "0%"} {
		if _, err := ParseRegression(in); err == nil {
			t.Errorf("ParseRegression(%q): no error", in)
		}
	}
}

// A study of a service that carries 30% less than its baseline fails the
// gate, and its report says so in every format; an unchanged rerun passes.
func TestGateAndReportOnAStudyThatRegressed(t *testing.T) {
	p := loadPlan(t)
	base := fixedStudy(t, 1)
	slow := fixedStudy(t, 0.7)

	failed, res, err := Gate(base, slow, DefaultMaxRegression)
	if err != nil {
		t.Fatal(err)
	}
	if !failed || res.Capacity == nil || !res.Capacity.Regressed {
		t.Fatalf("gate passed a 30%% slower service: %+v", res)
	}
	if res.Capacity.ChangePct > -25 {
		t.Errorf("capacity change %.1f%%, want about −38%% (65 → 40 it/s)", res.Capacity.ChangePct)
	}
	md := string(render(t, slow, Options{Format: Markdown, Plan: p, Baseline: &base}))
	for _, want := range []string{"**Gate: FAIL.**", "| single instance | capacity_rps |", "single instance capacity_rps -38.5% against the baseline", "Not ready"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	junit := string(render(t, slow, Options{Format: JUnit, Plan: p, Baseline: &base}))
	if !strings.Contains(junit, `<testcase classname="headroom.regression" name="single instance capacity_rps"`) ||
		!strings.Contains(junit, `type="regression"`) {
		t.Errorf("JUnit lacks the failed capacity regression:\n%s", junit)
	}
	html := render(t, slow, Options{Plan: p, Baseline: &base})
	if !bytes.Contains(html, []byte("Gate: FAIL.")) {
		t.Error("HTML lacks the failed gate")
	}

	rerun := fixedStudy(t, 1)
	failed, res, err = Gate(base, rerun, DefaultMaxRegression)
	if err != nil || failed {
		t.Fatalf("an unchanged rerun failed the gate: %v %+v", err, res)
	}
	md = string(render(t, rerun, Options{Format: Markdown, Plan: p, Baseline: &base}))
	if !strings.Contains(md, "**Gate: PASS.**") {
		t.Error("the rerun's report does not pass the gate")
	}
}

// A run whose latency grew by 30% over its first minute regresses p95
// and p99 with significance; the same run again does not.
func TestGateOnRuns(t *testing.T) {
	base := shortRun(t, 1, 60)
	failed, res, err := Gate(base, shortRun(t, 1.3, 60), DefaultMaxRegression)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Fatalf("a 30%% slower run passed the gate: %+v", res.Reasons)
	}
	joined := strings.Join(res.Reasons, "; ")
	if !strings.Contains(joined, "p95") || !strings.Contains(joined, "p99") {
		t.Errorf("reasons %q do not name p95 and p99", joined)
	}
	if failed, res, err := Gate(base, shortRun(t, 1, 60), DefaultMaxRegression); err != nil || failed {
		t.Errorf("an unchanged rerun failed: %v %v", err, res.Reasons)
	}
}
