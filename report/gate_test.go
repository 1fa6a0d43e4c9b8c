package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/compare"
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
	// The capacity is a bracket comparison: no p-value is printed for it,
	// and the report states the rule for many request names.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| single instance | capacity_rps |") && (strings.Contains(line, "0.0001") || !strings.Contains(line, "bracket comparison, no test")) {
			t.Errorf("capacity row %q claims a p-value or does not say it is a bracket comparison", line)
		}
	}
	if !strings.Contains(md, "Holm–Bonferroni over the") {
		t.Errorf("Markdown does not state the correction for many request names")
	}
	junit := string(render(t, slow, Options{Format: JUnit, Plan: p, Baseline: &base}))
	if strings.Contains(junit, "p &lt; 0.0001") && strings.Contains(junit, "capacity_rps") && !strings.Contains(junit, "bracket comparison (no statistical test)") {
		t.Errorf("JUnit gives the capacity a p-value")
	}
	if !strings.Contains(junit, `<testcase classname="headroom.regression" name="single instance capacity_rps"`) ||
		!strings.Contains(junit, `type="regression"`) {
		t.Errorf("JUnit lacks the failed capacity regression:\n%s", junit)
	}
	html := render(t, slow, Options{Plan: p, Baseline: &base})
	if !bytes.Contains(html, []byte("Gate: FAIL.")) {
		t.Error("HTML lacks the failed gate")
	}

	// A rerun 3% slower: every baseline-step latency moved (the rank tests
	// see it), but by less than the 10% minimum effect, and its search
	// bracket overlaps the baseline's: the gate passes. (Comparing the
	// fixture with itself could not fail.)
	rerun := fixedStudy(t, 0.97)
	failed, res, err = Gate(base, rerun, DefaultMaxRegression)
	if err != nil || failed {
		t.Fatalf("a 3%% slower rerun failed the gate: %v %+v", err, res.Reasons)
	}
	if res.Capacity == nil || len(res.Names) == 0 || res.Tests == 0 {
		t.Fatalf("the rerun was not compared: capacity %v, %d names, %d tests", res.Capacity, len(res.Names), res.Tests)
	}
	moved := false
	for _, n := range res.Names {
		for _, d := range n.Deltas {
			if d.Metric == compare.P95 && d.Change > 0 {
				moved = true
			}
		}
	}
	if !moved {
		t.Errorf("no p95 rose in a 3%% slower rerun: the comparison did not see the fixtures differ")
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
	// 5% slower in every second: significant, but under the 10% minimum
	// effect, so the gate passes; 15% slower fails it.
	failed, res, err = Gate(base, shortRun(t, 1.05, 60), DefaultMaxRegression)
	if err != nil || failed {
		t.Fatalf("a 5%% slower run failed the gate: %v %v", err, res.Reasons)
	}
	significant := false
	for _, d := range res.Names[0].Deltas {
		if d.Significant && !d.Regressed && d.Change > 0 {
			significant = true
		}
	}
	if !significant {
		t.Errorf("no latency 5%% slower in every second is a significant change within the limit: %+v", res.Names[0].Deltas)
	}
	if failed, res, err := Gate(base, shortRun(t, 1.15, 60), DefaultMaxRegression); err != nil || !failed {
		t.Errorf("a 15%% slower run passed the gate: %v %v", err, res.Reasons)
	}
}

// Rule 6: a study that never recovered from its stress surge is not
// ready: the verdict says "Not ready" and JUnit fails the recovery case.
func TestFailedRecoveryIsNotReady(t *testing.T) {
	p := loadPlan(t)
	ok := fixedStudy(t, 1)
	if !strings.Contains(string(render(t, ok, Options{Format: Markdown, Plan: p})), "Ready for the launch load") {
		t.Fatal("the fixture study is not ready to begin with: the test would prove nothing")
	}
	stuck := fixedStudy(t, 1)
	stuck.Study.Study.Stress.Recovered, stuck.Study.Study.Stress.RecoveryS = false, nil
	if stuck.Study.Study.Stress.Rate <= 0 || stuck.Study.Study.Stress.Skipped != "" {
		t.Fatalf("the fixture has no stress phase: %+v", stuck.Study.Study.Stress)
	}
	md := string(render(t, stuck, Options{Format: Markdown, Plan: p}))
	if !strings.Contains(md, "Not ready") || strings.Contains(md, "Ready for the launch load") {
		t.Errorf("Markdown of an unrecovered study does not say Not ready:\n%.1500s", md)
	}
	if !strings.Contains(md, "recovery after stress") {
		t.Errorf("Markdown does not name the failed recovery")
	}
	junit := string(render(t, stuck, Options{Format: JUnit, Plan: p}))
	if !strings.Contains(junit, `name="recovery after stress`) || !strings.Contains(junit, `type="capacity"`) || !strings.Contains(junit, `type="verdict"`) {
		t.Errorf("JUnit lacks the failed recovery and verdict:\n%s", junit)
	}
}
