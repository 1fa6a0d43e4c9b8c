package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRunAttachesFindingsEvenWithoutTelemetry proves a run whose plan names
// an unreachable Prometheus and trace store still completes with its SLO
// verdict, prints the findings section and writes findings[] to the JSON.
func TestRunAttachesFindingsEvenWithoutTelemetry(t *testing.T) {
	srv := checkoutShop(t)
	observe := "observe:\n  prometheus: http://" + closedPort(t) + "\n  jaeger: http://" + closedPort(t) + "\n  service: shop\n"
	path := writePlan(t, checkoutPlan+observe, srv.URL)
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := runHeadroom(t, "--quiet", "--out", out, path)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Findings (") {
		t.Errorf("no findings section in the summary:\n%s", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Findings    []json.RawMessage `json:"findings"`
		Correlation *struct {
			Window struct {
				Found bool `json:"found"`
			} `json:"window"`
		} `json:"correlation"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Findings == nil || got.Correlation == nil {
		t.Fatalf("run.json lacks findings[] or correlation: %s", data[:min(len(data), 400)])
	}
}

// TestRunWithoutObserveWritesEmptyFindings proves the findings key is
// always there, empty when the plan names no telemetry.
func TestRunWithoutObserveWritesEmptyFindings(t *testing.T) {
	srv := checkoutShop(t)
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := runHeadroom(t, "--quiet", "--out", out, writePlan(t, checkoutPlan, srv.URL))
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "Findings (") {
		t.Errorf("findings printed without an observe section:\n%s", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"findings": []`) {
		t.Errorf("run.json should hold an empty findings list")
	}
}

// outputOrder runs the command with stdout and stderr into one buffer, so
// the order of what both printed shows, and returns it.
func outputOrder(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var both bytes.Buffer
	code := dispatch(args, &both, &both)
	return code, both.String()
}

// inOrder fails unless each of want appears in out after the one before.
func inOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Fatalf("%q not found after byte %d, want it in the order %q:\n%s", w, at, want, out)
		}
		at += i + len(w)
	}
}

// TestRunPrintsItsSummaryBeforeReadingTheFindings proves the numbers
// appear as soon as the load ends: the summary and SLOs, then the line
// saying the findings are being read, then the findings.
func TestRunPrintsItsSummaryBeforeReadingTheFindings(t *testing.T) {
	srv := checkoutShop(t)
	observe := "observe:\n  prometheus: http://" + closedPort(t) + "\n  service: shop\n"
	code, out := outputOrder(t, "run", writePlan(t, checkoutPlan+observe, srv.URL))
	if code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	inOrder(t, out, "✓ p95", "reading the findings", "Findings (")
}
