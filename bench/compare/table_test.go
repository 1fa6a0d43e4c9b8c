package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPrintTableShowsRatiosAgainstVegetaAndWrk(t *testing.T) {
	cfg := config{Seconds: 10, Conns: 64, GenCPUs: "0", TargetCPUs: "1", TargetMode: "raw"}
	ms := []measurement{
		{Tool: "wrk", Report: report{Requests: 400000, Throughput: 40000},
			Usage: usage{CPU: 8 * time.Second, Wall: 10 * time.Second, MaxRSSKB: 4096, PeakAnonKB: 1024}, Target: targetCounts{400030, 64}, TargetCPU: 9 * time.Second, OthersGen: 0.01},
		{Tool: "vegeta", Report: report{Requests: 200000, Throughput: 20000},
			Usage: usage{CPU: 10 * time.Second, Wall: 10 * time.Second, MaxRSSKB: 20480, PeakAnonKB: 10240}, Target: targetCounts{200000, 64}, TargetCPU: 5 * time.Second},
		{Tool: "headroom", Report: report{Requests: 100000, Throughput: 10000},
			Usage: usage{CPU: 10 * time.Second, Wall: 10 * time.Second, MaxRSSKB: 51200, PeakAnonKB: 8192}, Target: targetCounts{100000, 64}, TargetCPU: 2 * time.Second},
	}
	var b bytes.Buffer
	if err := printTable(&b, cfg, ms); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = strings.Join(f, " ")
		}
	}
	want := map[string]string{
		// tool rps requests target errors cpu/100k rss anon vs-wrk vs-vegeta tool-busy target-busy others
		"wrk":      "wrk 40000 400000 400030 0 2.00 4.0 1.0 1.00x/1.00x 2.00x/0.40x 80% 90% 1%/0%",
		"vegeta":   "vegeta 20000 200000 200000 0 5.00 20.0 10.0 0.50x/2.50x 1.00x/1.00x 100% 50% 0%/0%",
		"headroom": "headroom 10000 100000 100000 0 10.00 50.0 8.0 0.25x/5.00x 0.50x/2.00x 100% 20% 0%/0%",
	}
	for tool, row := range want {
		if rows[tool] != row {
			t.Errorf("row %s = %q, want %q", tool, rows[tool], row)
		}
	}
	if strings.Contains(out, "WARNING") {
		t.Errorf("warning for consistent counts:\n%s", out)
	}
	if !regexp.MustCompile(`load generator on CPU 0, target .* on CPU 1`).MatchString(out) {
		t.Errorf("footnote does not say how the run was pinned:\n%s", out)
	}
}

func TestPrintTableWithoutReferencesShowsNoRatio(t *testing.T) {
	ms := []measurement{{Tool: "headroom", Report: report{Requests: 10, Throughput: 1}, Target: targetCounts{10, 1}}}
	var b bytes.Buffer
	if err := printTable(&b, config{}, ms); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "rate/CPU  ") || !strings.Contains(b.String(), "not pinned") {
		t.Errorf("want no ratio column and an unpinned footnote:\n%s", b.String())
	}
}

func TestPrintTableOfHTTP2ComparesWithH2loadAndFortio(t *testing.T) {
	cfg := config{Seconds: 10, Conns: 64, H2Conns: 4, Proto: protoH2}
	ms := []measurement{
		{Tool: "fortio", Report: report{Requests: 200000, Throughput: 20000}, Usage: usage{CPU: 8 * time.Second}, Target: targetCounts{200000, 64}},
		{Tool: "h2load", Report: report{Requests: 400000, Throughput: 40000}, Usage: usage{CPU: 4 * time.Second}, Target: targetCounts{400000, 4}},
		{Tool: "headroom", Report: report{Requests: 300000, Throughput: 30000}, Usage: usage{CPU: 6 * time.Second}, Target: targetCounts{300000, 4}},
	}
	var b bytes.Buffer
	if err := printTable(&b, cfg, ms); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"vs fortio rate/CPU", "vs h2load rate/CPU", "1.50x/0.50x         0.75x/2.00x",
		"bench/target -mode nethttp -tls", "64 streams over 4 connections"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "vs wrk rate") {
		t.Errorf("a wrk column without a wrk row:\n%s", out)
	}
}

func TestMismatch(t *testing.T) {
	tests := []struct {
		name   string
		report report
		target targetCounts
		want   string // substring; "" for agreement
	}{
		{"equal", report{Requests: 1000}, targetCounts{1000, 64}, ""},
		{"tool stopped with requests in flight", report{Requests: 1000}, targetCounts{1064, 64}, ""},
		{"failed requests the target never saw", report{Requests: 1100, Errors: 100}, targetCounts{1000, 64}, ""},
		{"tool claims more than the target served", report{Requests: 2000}, targetCounts{1000, 64}, "target wrote only 1000"},
		{"tool lost responses", report{Requests: 1000}, targetCounts{2000, 64}, "1000 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mismatch(measurement{Report: tt.report, Target: tt.target})
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("mismatch = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContendedFlagsRunsSharedWithOtherProcesses(t *testing.T) {
	tests := []struct {
		gen, target float64
		want        bool
	}{
		{gen: 0.02, target: 0.05, want: false},
		{gen: 0.30, target: 0.01, want: true},
		{gen: 0.01, target: 0.12, want: true},
	}
	for _, tt := range tests {
		got := contended(measurement{OthersGen: tt.gen, OthersTarget: tt.target})
		if (got != "") != tt.want {
			t.Errorf("others %v/%v: contended = %q, want flagged %v", tt.gen, tt.target, got, tt.want)
		}
	}
}

// TestPoolAddsRoundsUp pools two rounds: a tool that was cheaper per
// request in one round and dearer in the other ends with all its CPU over
// all its requests, and the mean of its rates.
func TestPoolAddsRoundsUp(t *testing.T) {
	round := func(wrkReq, headroomReq int64, wrkCPU, headroomCPU time.Duration, anonKB int64) []measurement {
		return []measurement{
			{Tool: "wrk", Report: report{Requests: wrkReq, Throughput: float64(wrkReq) / 10},
				Usage: usage{CPU: wrkCPU, Wall: 10 * time.Second, MaxRSSKB: 5000}, Target: targetCounts{wrkReq, 64}, TargetCPU: 9 * time.Second},
			{Tool: "headroom", Report: report{Requests: headroomReq, Throughput: float64(headroomReq) / 10},
				Usage: usage{CPU: headroomCPU, Wall: 10 * time.Second, MaxRSSKB: 60000, PeakAnonKB: anonKB}, Target: targetCounts{headroomReq, 64}, TargetCPU: 9 * time.Second, OthersGen: 0.04},
		}
	}
	pooled := pool([][]measurement{
		round(1_600_000, 1_400_000, 9*time.Second, 9*time.Second, 12_000),
		round(1_200_000, 1_400_000, 9*time.Second, 9*time.Second, 9_000),
	})
	if len(pooled) != 2 || pooled[0].Tool != "wrk" || pooled[1].Tool != "headroom" {
		t.Fatalf("pooled rows %+v, want wrk then headroom", pooled)
	}
	w, h := pooled[0], pooled[1]
	if w.Report.Requests != 2_800_000 || w.Report.Throughput != 140_000 || w.Usage.CPU != 18*time.Second || w.Usage.Wall != 20*time.Second {
		t.Errorf("wrk pooled %+v", w)
	}
	if got := cpuPer100k(h) / cpuPer100k(w); got != 1 {
		t.Errorf("headroom's CPU per request over wrk's pooled = %v, want 1 (the same CPU for the same requests)", got)
	}
	if h.OthersGen != 0.04 || h.Usage.MaxRSSKB != 60000 || h.Usage.PeakAnonKB != 12_000 || h.Target.Connections != 128 {
		t.Errorf("headroom pooled %+v", h)
	}
	var b bytes.Buffer
	if err := printTable(&b, config{Seconds: 10, Conns: 64, Pooled: 2}, pooled); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Pooled: the 2 rounds above") || strings.Contains(b.String(), "WARNING") {
		t.Errorf("pooled table:\n%s", b.String())
	}
}

func TestRunOrderRotatesEachRound(t *testing.T) {
	for _, tc := range []struct {
		n, round int
		want     string
	}{{3, 1, "[0 1 2]"}, {3, 2, "[1 2 0]"}, {3, 3, "[2 0 1]"}, {3, 4, "[0 1 2]"}, {1, 5, "[0]"}} {
		if got := fmt.Sprint(runOrder(tc.n, tc.round)); got != tc.want {
			t.Errorf("runOrder(%d, %d) = %s, want %s", tc.n, tc.round, got, tc.want)
		}
	}
}
