package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
