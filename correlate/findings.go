package correlate

import (
	"fmt"
	"math"
	"sort"
)

// Finding is one ranked candidate bottleneck with its evidence and what
// to do about it.
type Finding struct {
	Rank           int         `json:"rank"`
	Kind           FindingKind `json:"kind"` // a signal (cpu_usage, pool_wait, …) or n_plus_one, slow_query, slow_span, serial_calls, unexplained
	Title          string      `json:"title"`
	Score          float64     `json:"score"` // 0–1: the weight of the evidence that ranked it
	Evidence       Evidence    `json:"evidence"`
	Recommendation string      `json:"recommendation"`

	cause bool // another finding follows it: a named cause, not demoted by the spans
}

// Evidence is what a finding rests on: the numbers in words, and the
// readings, spans, queries and traces they come from.
type Evidence struct {
	Facts       []string    `json:"facts"`
	Signal      *Reading    `json:"signal,omitempty"`
	Related     []Reading   `json:"related,omitempty"` // other signals of the same resource
	Utilisation float64     `json:"utilisation,omitempty"`
	SpanShare   float64     `json:"span_share,omitempty"` // share of the added latency its spans explain
	Span        *SpanDelta  `json:"span,omitempty"`
	Repeat      *Repeat     `json:"repeat,omitempty"`
	Serial      *Serial     `json:"serial,omitempty"`
	Index       *IndexHint  `json:"index,omitempty"`
	Queries     []string    `json:"queries,omitempty"`
	Traces      []TraceLink `json:"traces,omitempty"`
}

// assessment is how strongly one reading points at its resource.
type assessment struct {
	saturated bool
	util      float64 // 0–1 where a limit is known
	facts     []string
}

// assess applies a resource's saturation rule to its reading.
func assess(r Reading) assessment {
	ctx := func(name string) float64 { return r.Context[name].Degraded }
	var a assessment
	switch r.Signal {
	case SignalCPU:
		limit, what := ctx(AuxLimit), "CPU limit"
		if limit <= 0 {
			limit, what = ctx(AuxGOMAXPROCS), "GOMAXPROCS"
		}
		if limit > 0 {
			a.util = r.Degraded / limit
			a.saturated = a.util >= 0.6
			a.facts = append(a.facts, fmt.Sprintf("%.2f of %.2f cores used (%s), %.0f%%", r.Degraded, limit, what, 100*a.util))
		} else {
			a.saturated = r.HasBaseline && r.Degraded >= 2*r.Baseline && r.Degraded >= 0.5
			a.facts = append(a.facts, fmt.Sprintf("%.2f cores used; no CPU limit or GOMAXPROCS series to compare with", r.Degraded))
		}
		// Runnable goroutines waiting for a CPU: starved even when the
		// host, not this process, uses the cores.
		// A wait of 20 ms or more that tripled is starvation whether or not
		// this process's own use grew (the host's other work may hold the
		// cores); smaller waits count only when the process did more work.
		sched := r.Context[AuxSchedP99]
		moreWork := !r.HasBaseline || r.Degraded >= 1.5*r.Baseline
		starved := sched.Degraded >= 0.02 && sched.Degraded >= 3*sched.Baseline
		if starved || (moreWork && (sched.Degraded >= 0.02 || (sched.Degraded >= 0.01 && sched.Degraded >= 3*sched.Baseline))) {
			a.saturated = true
			a.util = math.Max(a.util, 0.9)
			a.facts = append(a.facts, fmt.Sprintf("runnable goroutines waited up to %.1f ms for a CPU (p99 scheduler latency; %.1f ms at baseline)",
				1000*sched.Degraded, 1000*sched.Baseline))
		}
	case SignalThrottling:
		a.util = r.Degraded
		a.saturated = r.Degraded >= 0.1
		a.facts = append(a.facts, fmt.Sprintf("%.0f%% of CFS periods throttled", 100*r.Degraded))
	case SignalMemory:
		if limit := ctx(AuxLimit); limit > 0 {
			a.util = r.Degraded / limit
			a.saturated = a.util >= 0.9
			a.facts = append(a.facts, fmt.Sprintf("RSS %s of a %s limit", bytesText(r.Degraded), bytesText(limit)))
		}
	case SignalGC:
		a.util = r.Degraded
		gcCPU := ctx(AuxGCCPU)
		a.saturated = r.Degraded >= 0.02 || gcCPU >= 0.15
		a.facts = append(a.facts, fmt.Sprintf("GC pauses take %.1f%% of the time", 100*r.Degraded))
		if gcCPU > 0 {
			a.facts = append(a.facts, fmt.Sprintf("GC uses %.0f%% of the CPU", 100*gcCPU))
		}
	case SignalPoolWait:
		moved := !r.HasBaseline || r.Degraded >= 3*r.Baseline+0.005
		a.saturated = r.Degraded >= 0.01 && moved
		a.facts = append(a.facts, fmt.Sprintf("requests spent %.3f s per second waiting for a connection (baseline %.3f)", r.Degraded, r.Baseline))
		if most := ctx(AuxMax); most > 0 {
			a.util = ctx(AuxInUse) / most
			inUse := r.Context[AuxInUse]
			a.facts = append(a.facts, inUseFact(inUse.Degraded, inUse.Peak, most, "mean"))
		}
	case SignalPoolInUse:
		if most := ctx(AuxMax); most > 0 {
			a.util = r.Degraded / most
			a.saturated = a.util >= 0.9
			a.facts = append(a.facts, inUseFact(r.Degraded, r.Peak, most, "mean"))
		}
	case SignalOpenFDs:
		if most := ctx(AuxMax); most > 0 {
			a.util = r.Degraded / most
			a.saturated = a.util >= 0.8
			a.facts = append(a.facts, fmt.Sprintf("%.0f of %.0f file descriptors open", r.Degraded, most))
		}
	default:
		if r.Resource == ResourceCustom && r.HasBaseline && r.Pearson != nil {
			a.saturated = *r.Pearson >= 0.7 && math.Abs(r.Degraded) >= 2*math.Abs(r.Baseline)
		}
	}
	a.util = clamp01(a.util)
	return a
}

// score weighs a saturated signal's evidence: utilisation, how far it
// moved, whether it led the latency knee, its correlation with p99 and the
// share of the added latency its spans explain. Unknown parts count half.
func score(r Reading, a assessment, spanShare float64, haveSpans bool) float64 {
	move := 0.5
	if r.HasBaseline {
		floor := math.Max(math.Abs(r.Baseline), 1e-3)
		move = clamp01((r.Degraded - r.Baseline) / floor / 2)
	}
	timing := 0.5
	if r.LeadSeconds != nil {
		switch l := *r.LeadSeconds; {
		case l >= -2:
			timing = 1
		case l >= -15:
			timing = 0.5
		default:
			timing = 0
		}
	}
	corr := 0.5
	if r.Pearson != nil {
		corr = clamp01(*r.Pearson)
	}
	share := 0.5
	if haveSpans {
		share = clamp01(spanShare)
	}
	util := a.util
	if util == 0 {
		util = 0.5
	}
	return 0.3 + 0.7*(0.3*util+0.2*move+0.15*timing+0.15*corr+0.2*share)
}

// spanShareFor is the share of the added latency spent in the spans a
// resource shows up in: database spans for a pool, the services' own code
// (root and internal self-time) for CPU and GC.
func spanShareFor(resource string, b *Breakdown) float64 {
	if b == nil {
		return 0
	}
	var share float64
	for _, s := range b.Spans {
		switch resource {
		case ResourcePool:
			if s.DB {
				share += s.Share
			}
		case ResourceCPU, ResourceQuota, ResourceGC:
			if !s.DB && !s.Client {
				share += s.Share
			}
		}
	}
	return share
}

// rank sorts findings by score and numbers them from 1.
func rank(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Score > fs[j].Score })
	for i := range fs {
		fs[i].Rank = i + 1
		fs[i].Score = math.Round(fs[i].Score*1000) / 1000
	}
	return fs
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(0, math.Min(1, v))
}

func bytesText(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// inUseFact says how many of a pool's most connections were in use in the
// degraded window: typical (the stat over the scrapes) and, when it is
// higher, the peak (a pool that fills in bursts reads low at most scrapes).
func inUseFact(typical, peak, most float64, stat string) string {
	fact := fmt.Sprintf("%.1f of %.0f connections in use (%.0f%%, %s over the scrapes)", typical, most, 100*typical/most, stat)
	if peak > typical {
		fact += fmt.Sprintf(", up to %.0f", peak)
	}
	return fact
}
