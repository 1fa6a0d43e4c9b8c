package correlate

import (
	"strings"
	"testing"
	"time"
)

// GC: the CPU rise is mostly the runtime's GC work; the finding is GC,
// ranked above CPU, with bytes per request and a GOGC figure.
func TestExplainRanksGCFirstWhenItTookMostOfTheCPURise(t *testing.T) {
	s := cpuScenario() // CPU 0.5 → 1.9 cores, 50 → 300 req/s
	s.curves["go_cpu_classes_gc_total_cpu_seconds_total"] = stepAt(at, 0.05, 1.2)
	s.curves["go_memstats_alloc_bytes_total"] = stepAt(at, 5<<20, 600<<20) // 100 KiB → 2 MiB per request
	rep := explainScenario(t, s)
	top := rep.Findings[0]
	if top.Kind != "gc_pause" {
		t.Fatalf("top finding %s, want gc_pause (all: %s)", top.Kind, kinds(rep.Findings))
	}
	for _, want := range []string{"larger part of the CPU rise (82%", "each request allocates 2 MiB", "raise GOGC from 100 to 200"} {
		if !strings.Contains(top.Recommendation, want) {
			t.Errorf("GC recommendation %q lacks %q", top.Recommendation, want)
		}
	}
	cpu := findingOf(rep, "cpu_usage")
	if cpu == nil || !hasNote(cpu.Evidence.Facts, "it follows garbage collection") {
		t.Errorf("cpu finding %+v: want it to follow GC", cpu)
	}
	// Plain CPU work: the same rise with GC flat stays a CPU finding.
	s = cpuScenario()
	s.curves["go_cpu_classes_gc_total_cpu_seconds_total"] = constant(0.05)
	if rep := explainScenario(t, s); rep.Findings[0].Kind != "cpu_usage" {
		t.Errorf("plain CPU: top %s (all %s), want cpu_usage", rep.Findings[0].Kind, kinds(rep.Findings))
	}
}

// Throttling: a CFS quota of 1 core throttles the process; the quota ranks
// above the CPU it caps, with a limit above the current one.
func TestExplainRanksTheCPUQuotaFirst(t *testing.T) {
	s := cpuScenario()
	s.curves["process_cpu_seconds_total"] = stepAt(at, 0.5, 0.98)
	s.curves["container_cpu_usage_seconds_total"] = stepAt(at, 0.5, 0.98)
	s.curves["container_cpu_cfs_throttled_periods_total"] = stepAt(at, 0, 0.6) // the ratio curve answers the whole query
	s.curves["container_cpu_cfs_throttled_seconds_total"] = stepAt(at, 0, 0.9)
	s.curves["container_spec_cpu_quota"] = constant(1)
	rep := explainScenario(t, s)
	top := rep.Findings[0]
	if top.Kind != "cpu_throttling" || !strings.Contains(top.Recommendation, "Raise the CPU limit from 1.00 to") {
		t.Fatalf("top finding %s %q, want cpu_throttling with a new limit (all: %s)", top.Kind, top.Recommendation, kinds(rep.Findings))
	}
	// The quota's 1 core is the CPU limit: 0.98 of it is saturated, so the
	// CPU finding must exist and say it follows the quota.
	cpu := findingOf(rep, "cpu_usage")
	if cpu == nil {
		t.Fatalf("no cpu_usage finding at 0.98 of a 1-core quota (all: %s)", kinds(rep.Findings))
	}
	if !hasNote(cpu.Evidence.Facts, "it follows the CPU quota") || cpu.Rank <= top.Rank {
		t.Errorf("cpu finding rank %d facts %q: want it below the quota, following it", cpu.Rank, cpu.Evidence.Facts)
	}
}

// A cause above its symptom: CPU saturates 5 s before the knee, the pool
// fills at the knee; the pool says it follows CPU.
func TestExplainRanksTheFirstToSaturateAboveWhatFollows(t *testing.T) {
	s := poolScenario()
	s.curves["process_cpu_seconds_total"] = stepAt(at.Add(-5*time.Second), 0.5, 1.9)
	rep := explainScenario(t, s)
	if rep.Findings[0].Kind != "cpu_usage" {
		t.Fatalf("top %s (all %s), want cpu_usage: it saturated first", rep.Findings[0].Kind, kinds(rep.Findings))
	}
	pool := findingOf(rep, "pool_wait")
	if pool == nil || !hasNote(pool.Evidence.Facts, "it follows cpu_usage, which moved 5 s earlier") {
		t.Errorf("pool finding facts %q: want it to say it follows cpu_usage", factsOf(pool))
	}
}

// The CPU finding uses the study's instance counts and never proposes a
// limit below the current one.
func TestCPURecommendationAgreesWithTheStudy(t *testing.T) {
	r := Reading{Signal: "cpu_usage", Baseline: 0.5, Degraded: 1.5, HasBaseline: true,
		Context: map[string]Pair{"gomaxprocs": {Degraded: 2}}}
	sz := sizing{rate: 600, baselineRate: 200, degradedRate: 576, util: 0.65,
		fleet: &Fleet{AutoscaleRPS: 400, SustainedRPS: 666.7, PeakRPS: 4000, MinInstances: 3, MaxInstances: 20}}
	got := recommendCPU(r, sz)
	for _, want := range []string{"2.60 ms of CPU per request (the degraded steps' mean cores ÷ their mean throughput", "2.50 ms at baseline", "run 3 instances at least and scale to 20, as the study recommends",
		"from 2.00 to 1.60"} {
		if want == "from 2.00 to 1.60" {
			if strings.Contains(got, want) || strings.Contains(got, "limit to 1.") {
				t.Errorf("%q proposes a limit below the current one", got)
			}
			continue
		}
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	sz.throttled = true
	if got := recommendCPU(r, sz); !strings.Contains(got, "the cpu_throttling finding gives the limit") || strings.Contains(got, "Raise each instance") {
		t.Errorf("%q: under a throttling quota the CPU finding defers the limit to it", got)
	}
	if strings.Contains(got, "oversubscribed") {
		t.Errorf("%q says oversubscribed without scheduler evidence", got)
	}
}

// Without traces or a baseline, the full pool in the degraded window
// bounds the hold time: a size, never "could not be measured".
func TestPoolRecommendationFromTheSaturationBound(t *testing.T) {
	r := Reading{Signal: "pool_wait", Degraded: 250, Context: map[string]Pair{"in_use": {Degraded: 10}, "max": {Degraded: 10}}}
	got := recommendPool(r, sizing{rate: 700, degradedRate: 576, util: 0.65})
	// 10 / 576 = 17.4 ms; 700 × 17.4 ms = 12.2 busy; ÷ 0.65 → 19.
	if !strings.Contains(got, "from 10 to 19 connections") || !strings.Contains(got, "17.4 ms (at most") {
		t.Errorf("%q: want 10 → 19 from the 17.4 ms bound", got)
	}
	b := &Breakdown{HoldTraces: 8, BaselineHoldMs: 4, DegradedHoldMs: 9, DegradedWaitMs: 300, BaselineTraces: 8}
	got = recommendPool(r, sizing{rate: 700, degradedRate: 576, util: 0.65, spans: b})
	// 700 × 4 ms = 2.8 busy → 5 < 10: held longer under load.
	if !strings.Contains(got, "needs only 5 connections") || !strings.Contains(got, "mean over 8 typical baseline traces") {
		t.Errorf("%q: want the measured hold time", got)
	}
}

// A pool whose connections are held far longer while the CPU is saturated
// follows the CPU, though both moved together.
func TestExplainRanksCPUAboveAPoolItsHoldersStarve(t *testing.T) {
	s := poolScenario()
	s.curves["process_cpu_seconds_total"] = stepAt(at, 0.5, 1.9)
	s.curves["go_sql_in_use_connections"] = stepAt(at, 0.5, 10) // 10 ms held at 50/s, 33 ms at 300/s
	rep := explainScenario(t, s)
	if rep.Findings[0].Kind != "cpu_usage" {
		t.Fatalf("top %s (all %s), want cpu_usage", rep.Findings[0].Kind, kinds(rep.Findings))
	}
	pool := findingOf(rep, "pool_wait")
	if pool == nil || !hasNote(pool.Evidence.Facts, "it follows cpu_usage: connections were held 3× longer") {
		t.Errorf("pool finding facts %q: want it to follow cpu_usage", factsOf(pool))
	}
}

// factsOf is a finding's facts, nil for no finding.
func factsOf(f *Finding) []string {
	if f == nil {
		return nil
	}
	return f.Evidence.Facts
}
