package correlate

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// gcShare is how much of the CPU rise between baseline and degraded window
// garbage collection took, from the Go runtime's own CPU classes.
type gcShare struct {
	known bool // GC cores and a CPU rise were both measured
	cause bool // GC took the larger part of the CPU rise

	cpuBase, cpuDeg float64 // cores used
	gcBase, gcDeg   float64 // cores in GC
	share           float64 // (gcDeg − gcBase) / (cpuDeg − cpuBase)

	allocBase, allocDeg float64 // bytes allocated per request; 0 = not known
	allocFit            *Fit    // allocDeg is this fit's slope across the steps; nil: the degraded steps' means
	pauseP99            float64 // seconds
	gogc, memLimit      float64 // GOGC percent; GOMEMLIMIT (or the memory limit) in bytes
	heap                float64 // bytes
}

// gcPart reads the GC's part of the CPU rise from the cpu_usage and
// gc_pause readings.
func gcPart(rs []Reading, sz sizing) gcShare {
	var cpu, gc, mem *Reading
	for i := range rs {
		switch r := &rs[i]; {
		case !r.Available:
		case r.Signal == SignalCPU:
			cpu = r
		case r.Signal == SignalGC:
			gc = r
		case r.Signal == SignalMemory:
			mem = r
		}
	}
	var g gcShare
	if gc == nil {
		return g
	}
	c := gc.Context
	if a := c[AuxAllocRate]; a.Fit != nil && a.Fit.R2 >= minFitR2 && a.Fit.PerRequest > 0 {
		g.allocDeg, g.allocFit = a.Fit.PerRequest, a.Fit
		if sz.baselineRate > 0 {
			g.allocBase = a.Baseline / sz.baselineRate
		}
	} else if a.Query != "" {
		if sz.degradedRate > 0 {
			g.allocDeg = a.Degraded / sz.degradedRate
		}
		if sz.baselineRate > 0 {
			g.allocBase = a.Baseline / sz.baselineRate
		}
	}
	g.pauseP99, g.gogc, g.memLimit = c[AuxPauseP99].Degraded, c[AuxGOGC].Degraded, c[AuxGOMEMLIMIT].Degraded
	if mem != nil {
		g.heap = mem.Context[AuxHeap].Degraded
		if l := mem.Context[AuxLimit].Degraded; l > 0 && (g.memLimit <= 0 || l < g.memLimit) {
			g.memLimit = l
		}
	}
	gcc, ok := c[AuxGCCores]
	if cpu == nil || !ok || !cpu.HasBaseline {
		return g
	}
	g.cpuBase, g.cpuDeg, g.gcBase, g.gcDeg = cpu.Baseline, cpu.Degraded, gcc.Baseline, gcc.Degraded
	if rise := g.cpuDeg - g.cpuBase; rise > 0.05 {
		g.known = true
		g.share = (g.gcDeg - g.gcBase) / rise
		g.cause = g.share >= 0.5
	}
	return g
}

// facts are the GC's numbers in words.
func (g gcShare) facts() []string {
	var out []string
	if g.known {
		out = append(out, fmt.Sprintf("garbage collection took %.0f%% of the CPU rise (means of samples, baseline → degraded steps): %.2f → %.2f cores in GC of %.2f → %.2f cores used",
			math.Max(0, 100*g.share), g.gcBase, g.gcDeg, g.cpuBase, g.cpuDeg))
	}
	if g.allocDeg > 0 {
		f := fmt.Sprintf("%s allocated per request (mean allocation rate ÷ mean throughput of the degraded steps)", bytesText(g.allocDeg))
		if g.allocFit != nil {
			f = fmt.Sprintf("%s allocated per request (least-squares fit of the allocation rate against throughput over %d steps, R² %.2f)", bytesText(g.allocDeg), g.allocFit.Steps, g.allocFit.R2)
		}
		if g.allocBase > 0 {
			f += fmt.Sprintf(", %s at baseline", bytesText(g.allocBase))
		}
		out = append(out, f)
	}
	if g.pauseP99 > 0 {
		out = append(out, fmt.Sprintf("GC pause p99 %.2f ms", 1000*g.pauseP99))
	}
	return out
}

// recommendGC is the advice for a GC-bound service, in numbers.
func recommendGC(r Reading, g gcShare, sz sizing) string {
	var b strings.Builder
	switch {
	case g.cause:
		fmt.Fprintf(&b, "Garbage collection is the larger part of the CPU rise (%.0f%%: %.2f of %.2f added cores)", 100*g.share, g.gcDeg-g.gcBase, g.cpuDeg-g.cpuBase)
	case g.known:
		fmt.Fprintf(&b, "GC pauses take %.1f%% of the time and garbage collection took %.0f%% of the CPU rise (%.2f of %.2f added cores)",
			100*r.Degraded, math.Max(0, 100*g.share), g.gcDeg-g.gcBase, g.cpuDeg-g.cpuBase)
	default:
		fmt.Fprintf(&b, "GC pauses take %.1f%% of the time", 100*r.Degraded)
	}
	if g.allocDeg > 0 {
		fmt.Fprintf(&b, "; each request allocates %s", bytesText(g.allocDeg))
		if g.allocBase > 0 && g.allocDeg > 1.5*g.allocBase {
			fmt.Fprintf(&b, " (%s at baseline)", bytesText(g.allocBase))
		}
		if sz.degradedRate > 0 {
			fmt.Fprintf(&b, ", %s/s at %.0f req/s", bytesText(g.allocDeg*sz.degradedRate), sz.degradedRate)
		}
	}
	b.WriteString(". Cut allocations on the hot path first (reuse buffers with sync.Pool, avoid per-request copies, maps and fmt): GC work grows with bytes allocated per request. ")
	gogc := g.gogc
	if gogc <= 0 {
		gogc = 100
	}
	fmt.Fprintf(&b, "Meanwhile raise GOGC from %.0f to %.0f: about half the GC cycles, for a heap goal of %.0f× the live heap instead of %.0f×", gogc, 2*gogc, 1+2*gogc/100, 1+gogc/100)
	if g.heap > 0 {
		fmt.Fprintf(&b, " (heap now %s)", bytesText(g.heap))
	}
	if g.memLimit > 0 {
		fmt.Fprintf(&b, ", with GOMEMLIMIT at %s (90%% of the %s limit) so the larger heap stays under it", bytesText(0.9*g.memLimit), bytesText(g.memLimit))
	} else {
		b.WriteString(", and set GOMEMLIMIT to about 90% of the memory the process may use so the larger heap stays safe")
	}
	b.WriteString(".")
	return b.String()
}

// orderCauses puts causes above their symptoms: the CPU quota above the CPU
// it caps, GC above the CPU it burns when it took most of the rise, and,
// among saturated resources, the one that moved first above those that
// moved after it (by more than the data's resolution). The later one says
// what it follows.
//
// A pool that fills because its connections are held far longer under load
// while the CPU is saturated follows the CPU: its holders are short of CPU.
func orderCauses(fs []Finding, gc gcShare, res *Resolution, hold holdGrowth) {
	idx := map[string]int{}
	for i, f := range fs {
		if f.Evidence.Signal != nil {
			idx[f.Evidence.Signal.Resource] = i
		}
	}
	follow := func(effect, cause int, why string) {
		e, c := &fs[effect], &fs[cause]
		c.cause = true
		if e.Score >= c.Score {
			c.Score, e.Score = math.Max(c.Score, e.Score), math.Min(c.Score, e.Score)-0.01
			if e.Score >= c.Score {
				e.Score = c.Score - 0.01
			}
		}
		e.Evidence.Facts = append(e.Evidence.Facts, why)
	}
	explicit := map[int]bool{}
	if q, ok := idx[ResourceQuota]; ok {
		if c, ok := idx[ResourceCPU]; ok {
			follow(c, q, "it follows the CPU quota: the kernel throttles the process at its limit (see cpu_throttling)")
			explicit[c] = true
		}
	}
	if g, ok := idx[ResourceGC]; ok && gc.cause {
		if c, ok := idx[ResourceCPU]; ok && !explicit[c] {
			follow(c, g, fmt.Sprintf("it follows garbage collection, which took %.0f%% of the CPU rise (see gc_pause)", 100*gc.share))
			explicit[c] = true
		}
	}
	if p, ok := idx[ResourcePool]; ok && hold.factor >= 3 {
		for _, cause := range []string{ResourceQuota, ResourceGC, ResourceCPU} {
			if cause == ResourceGC && !gc.cause {
				continue // GC is a cause only when it took at least half the CPU rise
			}
			if c, ok := idx[cause]; ok && cause == ResourceCPU && !cpuUsedUp(*fs[c].Evidence.Signal) {
				continue // the process did not use its cores: holders waited on the host, not on this CPU
			}
			if c, ok := idx[cause]; ok && !explicit[p] {
				follow(p, c, fmt.Sprintf("it follows %s: connections were held %.0f× longer under load (%.1f → %.1f ms per request, %s) while the CPU was saturated, so the pool fills because the requests holding connections are short of CPU",
					fs[c].Kind, hold.factor, hold.baseMs, hold.degMs, hold.how))
				explicit[p] = true
			}
		}
	}
	// The traces say where the added time went: a saturated resource
	// whose spans hold at least 80% of it ranks above one whose spans
	// hold under 10% (its saturation did not make requests slower).
	dominant, best := -1, 0.0
	for _, i := range idx {
		if sh := fs[i].Evidence.SpanShare; sh >= 0.8 && sh > best {
			dominant, best = i, sh
		}
	}
	if dominant >= 0 && !explicit[dominant] { // not when its own cause is already named
		for _, i := range sortedIdx(idx) {
			if i != dominant && !explicit[i] && fs[i].Evidence.SpanShare < 0.1 && fs[i].Score >= fs[dominant].Score {
				follow(i, dominant, fmt.Sprintf("it ranks below %s: the traces put %.0f%% of the added latency in %s's spans and %.0f%% in its own",
					fs[dominant].Kind, 100*best, fs[dominant].Evidence.Signal.Resource, 100*fs[i].Evidence.SpanShare))
				explicit[i] = true
			}
		}
	}
	tol := time.Second
	if res != nil {
		tol = max(tol, time.Duration(2*res.StepS*float64(time.Second)))
	}
	var moved []int
	for _, i := range sortedIdx(idx) {
		if fs[i].Evidence.Signal.MovedAt != nil && !explicit[i] {
			moved = append(moved, i)
		}
	}
	sort.Slice(moved, func(a, b int) bool {
		return fs[moved[a]].Evidence.Signal.MovedAt.Before(*fs[moved[b]].Evidence.Signal.MovedAt)
	})
	for a := 0; a < len(moved); a++ {
		for b := a + 1; b < len(moved); b++ {
			first, later := fs[moved[a]].Evidence.Signal, fs[moved[b]].Evidence.Signal
			gap := later.MovedAt.Sub(*first.MovedAt)
			if gap >= tol && fs[moved[b]].Score >= fs[moved[a]].Score {
				follow(moved[b], moved[a], fmt.Sprintf("it follows %s, which moved %.0f s earlier: a symptom of it rather than a cause", first.Signal, gap.Seconds()))
			}
		}
	}
}

// cpuUsedUp applies the CPU's own rule: the process used at least 60% of
// its CPU limit (or GOMAXPROCS). Scheduler latency alone, on a host whose
// other work holds the cores, does not make it the pool's cause.
func cpuUsedUp(r Reading) bool {
	limit := r.Context[AuxLimit].Degraded
	if limit <= 0 {
		limit = r.Context[AuxGOMAXPROCS].Degraded
	}
	return limit > 0 && r.Degraded >= 0.6*limit
}

// sortedIdx is the finding indexes of idx in order, so rules apply in
// the same order every run.
func sortedIdx(idx map[string]int) []int {
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// quotaFirst ranks a binding CPU quota (its finding exists only when the
// kernel throttled the process in at least 10% of its periods) above
// every other finding: whatever else saturated ran short of the CPU the
// quota withheld, and raising it is the first change to measure again.
func quotaFirst(fs []Finding, q int) {
	top := fs[q].Score
	for i := range fs {
		if i != q && fs[i].Score >= top {
			top = fs[i].Score + 0.01
		}
	}
	if top > fs[q].Score {
		fs[q].Evidence.Facts = append(fs[q].Evidence.Facts, "ranked first: the CPU quota binds, and what else saturated ran short of the CPU it withheld")
		fs[q].Score = top
	}
}

// holdGrowth is how much longer a request held a pooled connection in the
// degraded window than at baseline.
type holdGrowth struct {
	factor        float64
	baseMs, degMs float64
	how           string
}

func poolHoldGrowth(rep Report, sz sizing) holdGrowth {
	if b := rep.Spans; b != nil && b.HoldTraces > 0 && b.BaselineHoldMs > 0 && b.DegradedHoldMs > 0 {
		return holdGrowth{factor: b.DegradedHoldMs / b.BaselineHoldMs, baseMs: b.BaselineHoldMs, degMs: b.DegradedHoldMs, how: "from traces"}
	}
	for _, r := range rep.Signals {
		if r.Signal != SignalPoolWait || !r.Available {
			continue
		}
		in := r.Context[AuxInUse]
		if in.Baseline > 0 && sz.baselineRate > 0 && sz.degradedRate > 0 {
			b, d := 1000*in.Baseline/sz.baselineRate, 1000*in.Degraded/sz.degradedRate
			return holdGrowth{factor: d / b, baseMs: b, degMs: d, how: "connections in use ÷ throughput"}
		}
	}
	return holdGrowth{}
}
