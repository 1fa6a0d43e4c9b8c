package correlate

import (
	"fmt"
	"math"
	"strings"
)

// sizing is what recommendations size for.
type sizing struct {
	rate         float64 // target requests per second
	baselineRate float64 // achieved rate in the baseline window
	degradedRate float64
	util         float64 // target utilisation, 0.65
	spans        *Breakdown
	fleet        *Fleet // the study's instance counts; nil for a run
	throttled    bool   // a CPU quota throttles the service: its finding sets the limit
}

// recommendSignal writes the specific advice for a saturated signal.
func recommendSignal(r Reading, sz sizing, gc gcShare) string {
	c := func(name string) Pair { return r.Context[name] }
	switch r.Signal {
	case SignalPoolWait, SignalPoolInUse:
		return recommendPool(r, sz)
	case SignalCPU:
		return recommendCPU(r, sz)
	case SignalThrottling:
		return recommendQuota(r, sz)
	case SignalGC:
		return recommendGC(r, gc, sz)
	case SignalMemory:
		return fmt.Sprintf("Resident memory reached %s, %.0f%% of the %s limit: raise the memory limit, or set GOMEMLIMIT to about 90%% of it so the GC works harder before the kernel kills the process.",
			bytesText(r.Degraded), 100*r.Degraded/c(AuxLimit).Degraded, bytesText(c(AuxLimit).Degraded))
	case SignalOpenFDs:
		return fmt.Sprintf("%.0f of %.0f file descriptors are open: raise the limit (ulimit -n / LimitNOFILE) or look for connections that are not closed or reused.",
			r.Degraded, c(AuxMax).Degraded)
	}
	return fmt.Sprintf("%s moved from %.3g to %.3g with p99: look into what drives it (query: %s).", r.Signal, r.Baseline, r.Degraded, r.Query)
}

// recommendPool sizes the pool with Little's Law: connections busy =
// rate of the requests that use the pool × the time each holds one; size
// = busy / target utilisation. The hold time is the mean over the
// baseline's typical traces that touched the pool (transactions and
// statements), multiplied by those requests' own rate (their share of the
// traces × the target rate). Without traces it comes from the pool's own
// metrics: connections in use against throughput across the steps (a
// least-squares fit), or in use ÷ throughput at baseline (means of
// samples), or, in the degraded window, the bound the full pool sets.
func recommendPool(r Reading, sz sizing) string {
	inUse, most := r.Context[AuxInUse], r.Context[AuxMax].Degraded
	if r.Signal == SignalPoolInUse {
		inUse = Pair{Baseline: r.Baseline, Degraded: r.Degraded, Peak: r.Peak, Fit: r.Fit}
	}
	hold, how, bound, share := 0.0, "", false, 1.0
	switch {
	case sz.spans != nil && sz.spans.HoldTraces > 0 && sz.spans.BaselineHoldMs > 0:
		hold = sz.spans.BaselineHoldMs / 1000
		share = sz.spans.PoolShare
		if share <= 0 || share > 1 {
			share = 1
		}
		how = fmt.Sprintf("mean over %d typical baseline traces that used the pool, %.0f%% of the baseline's traces: transactions from BEGIN to COMMIT and statements outside them", sz.spans.HoldTraces, 100*share)
	case inUse.Fit != nil && inUse.Fit.R2 >= minFitR2 && inUse.Fit.PerRequest > 0:
		hold = inUse.Fit.PerRequest
		how = fmt.Sprintf("least-squares fit of connections in use against throughput over %d steps, R² %.2f", inUse.Fit.Steps, inUse.Fit.R2)
	case inUse.Baseline > 0 && sz.baselineRate > 0:
		hold = inUse.Baseline / sz.baselineRate
		how = fmt.Sprintf("Little's Law on the baseline: %.2f connections in use (mean of samples) at %.1f req/s", inUse.Baseline, sz.baselineRate)
	case sz.degradedRate > 0 && math.Max(inUse.Degraded, most) > 0:
		busy := inUse.Degraded
		if busy <= 0 {
			busy = most
		}
		hold, bound = busy/sz.degradedRate, true
		how = fmt.Sprintf("at most: %.1f connections in use (mean of samples) at %.1f req/s in the degraded steps bound it (Little's Law)", busy, sz.degradedRate)
	}
	rate := sz.rate * share
	if hold <= 0 || rate <= 0 {
		return fmt.Sprintf("Requests queue for database connections (%.3f s of waiting per second, mean of samples). Size the pool with Little's Law: connections = rate of the requests that use the pool × time each holds a connection ÷ %.2f (the plan's autoscale_at); neither traces nor pool metrics showed the hold time.",
			r.Degraded, sz.util)
	}
	rateText := fmt.Sprintf("%.0f/s", rate)
	if share < 1 {
		rateText = fmt.Sprintf("%.0f/s (%.0f%% of %.0f/s use the pool)", rate, 100*share, sz.rate)
	}
	busy := rate * hold
	size := int(math.Ceil(busy / sz.util))
	wait := ""
	if sz.spans != nil && sz.spans.DegradedWaitMs > 0 {
		wait = fmt.Sprintf(" In the slowest traces of the degraded steps a request waited %.1f ms for a connection (%.1f ms in typical baseline traces) and held one %.1f ms.",
			sz.spans.DegradedWaitMs, sz.spans.BaselineWaitMs, sz.spans.DegradedHoldMs)
	}
	if most > 0 && float64(size) <= most && !bound {
		return fmt.Sprintf("Requests queue for database connections, yet Little's Law needs only %d connections at %s (each holds one %.1f ms, %s; %.0f%% utilisation, the plan's autoscale_at) and the pool has %.0f: connections are held longer under load. Fix the slowest query spans (or transactions held across slow calls) before growing the pool.%s",
			size, rateText, 1000*hold, how, 100*sz.util, most, wait)
	}
	size = max(size, int(most)+1) // never a pool smaller than the one that queued
	current := ""
	if most > 0 {
		current = fmt.Sprintf(" from %.0f", most)
	}
	return fmt.Sprintf("Raise the connection pool%s to %d connections: at %s each request holds a connection %.1f ms (%s), so %.1f are busy on average; %d keeps the pool at %.0f%% utilisation (the plan's autoscale_at is %.0f%%). Check the database accepts that many.%s",
		current, size, rateText, 1000*hold, how, busy, size, 100*busy/float64(size), 100*sz.util, wait)
}

// minFitR2 is the R² a fit across steps needs before a cost per request
// is taken from it rather than from one window.
const minFitR2 = 0.8

// cpuPerRequest is the CPU seconds per request it sizes with: the slope
// of a least-squares fit of cores against throughput across the steps
// when it fits (R² ≥ 0.8, three steps or more), else the larger of the
// degraded steps' and the baseline's mean cores ÷ mean throughput (a
// saturated window can read low); base is the baseline's, 0 without one.
// how says which, in words.
func cpuPerRequest(r Reading, sz sizing) (per, base float64, how string) {
	if r.HasBaseline && sz.baselineRate > 0 {
		base = r.Baseline / sz.baselineRate
	}
	if f := r.Fit; f != nil && f.R2 >= minFitR2 && f.PerRequest > 0 {
		return f.PerRequest, base, fmt.Sprintf("the slope of a least-squares fit of cores against throughput over %d steps, R² %.2f", f.Steps, f.R2)
	}
	deg := 0.0
	if sz.degradedRate > 0 {
		deg = r.Degraded / sz.degradedRate
	}
	if base > deg {
		return base, base, fmt.Sprintf("the baseline's mean cores ÷ its throughput, above the degraded steps' %.2f ms", 1000*deg)
	}
	return deg, base, "the degraded steps' mean cores ÷ their mean throughput"
}

// recommendCPU turns CPU per request into the cores the study's instance
// counts need, and a limit when one instance's is too small; never a
// limit below the one it has.
func recommendCPU(r Reading, sz sizing) string {
	limit, what := r.Context[AuxLimit].Degraded, "CPU limit"
	if limit <= 0 {
		limit, what = r.Context[AuxGOMAXPROCS].Degraded, "GOMAXPROCS"
	}
	perReq, basePer, how := cpuPerRequest(r, sz)
	if perReq <= 0 {
		return "The service is CPU-bound: add instances or raise its CPU limit, and profile the handlers (pprof) for the hot path."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The service is CPU-bound: %.2f ms of CPU per request (%s; %.2f cores at %.1f req/s in the degraded steps, means of samples)", 1000*perReq, how, r.Degraded, sz.degradedRate)
	if basePer > 0 {
		fmt.Fprintf(&b, ", %.2f ms at baseline (%.2f cores at %.1f req/s)", 1000*basePer, r.Baseline, sz.baselineRate)
	}
	b.WriteString(". ")
	if sched := r.Context[AuxSchedP99]; limit > 0 && r.Degraded < 0.6*limit && sched.Degraded >= 0.01 && sched.Degraded >= 3*sched.Baseline {
		fmt.Fprintf(&b, "Goroutines waited %.0f ms for a CPU (p99 scheduler latency, %.1f ms at baseline) while the process used only %.2f of %.2f cores: the host is oversubscribed, so reserve CPU for it as well. ",
			1000*sched.Degraded, 1000*sched.Baseline, r.Degraded, limit)
	}
	if f := sz.fleet; f != nil {
		at := perReq * f.AutoscaleRPS
		fmt.Fprintf(&b, "At the study's autoscaling threshold of %.0f req/s per instance that is %.2f cores", f.AutoscaleRPS, at)
		if limit > 0 {
			fmt.Fprintf(&b, " (%.0f%% of %s, %.2f)", 100*at/limit, what, limit)
		}
		fmt.Fprintf(&b, "; the sustained %.0f req/s needs %.2f cores and the peak %.0f req/s %.2f cores in all: run %d instances at least and scale to %d, as the study recommends.",
			f.SustainedRPS, perReq*f.SustainedRPS, f.PeakRPS, perReq*f.PeakRPS, f.MinInstances, f.MaxInstances)
		if sz.throttled {
			b.WriteString(" Its CPU quota caps it: the cpu_throttling finding gives the limit to set.")
		} else if limit > 0 && at/sz.util > limit {
			fmt.Fprintf(&b, " Raise each instance's %s from %.2f to %.2f cores so the threshold sits at %.0f%% of it, or lower the threshold.", what, limit, at/sz.util, 100*sz.util)
		}
		b.WriteString(" Profile the handlers (pprof) to cut CPU per request.")
		return b.String()
	}
	need := sz.rate * perReq
	if limit <= 0 {
		fmt.Fprintf(&b, "%.0f/s needs %.2f cores, %.2f cores at %.0f%% utilisation. Profile the handlers (pprof) for the hot path.", sz.rate, need, need/sz.util, 100*sz.util)
		return b.String()
	}
	n := int(math.Ceil(need / (sz.util * limit)))
	fmt.Fprintf(&b, "%.0f/s needs %.2f cores: %d instances of %.2f cores (%.0f%% utilisation each)", sz.rate, need, max(n, 1), limit, 100*sz.util)
	switch {
	case sz.throttled:
		b.WriteString("; its CPU quota caps it: the cpu_throttling finding gives the limit to set")
	case need/sz.util > limit:
		fmt.Fprintf(&b, ", or raise one instance's %s from %.2f to %.2f cores", what, limit, need/sz.util)
	}
	b.WriteString("; profile the handlers (pprof) to cut CPU per request.")
	return b.String()
}

// recommendSpan writes advice for a span that took the added latency.
func recommendSpan(s SpanDelta, h IndexHint) string {
	switch {
	case s.DB:
		var b strings.Builder
		fmt.Fprintf(&b, "The query %q takes %.1f ms per request (%.1f ms at baseline). Check its plan (EXPLAIN)", s.Statement, s.DegradedMs, s.BaselineMs)
		if len(h.Columns) > 0 {
			table := h.Table
			if table == "" {
				table = "<table>"
			}
			fmt.Fprintf(&b, "; index candidates from its WHERE/ORDER BY: CREATE INDEX ON %s (%s)", table, strings.Join(h.Columns, ", "))
		}
		b.WriteString(".")
		return b.String()
	case s.Client:
		return fmt.Sprintf("The outbound call %q takes %.1f ms per request (%.1f ms at baseline): it is the downstream dependency, not this service's resources. Give it a timeout and a latency budget, call it concurrently or asynchronously where the flow allows, cache its answers, or take the numbers to its owners.",
			s.Name, s.DegradedMs, s.BaselineMs)
	case s.Root:
		return fmt.Sprintf("The time is spent in %q's own code (%.1f ms self-time per request, %.1f ms at baseline), outside any child span: profile it (pprof CPU and mutex/block profiles) and add spans around its slow parts.",
			s.Name, s.DegradedMs, s.BaselineMs)
	}
	return fmt.Sprintf("The span %q takes %.1f ms of self-time per request (%.1f ms at baseline): look at what it does and add child spans to narrow it down.", s.Name, s.DegradedMs, s.BaselineMs)
}

// recommendQuota sets the CPU limit a throttled instance needs: the cores
// the target rate takes at the target utilisation (CPU per request from
// the window), never below the quota it has.
func recommendQuota(r Reading, sz sizing) string {
	quota, usage := r.Context[AuxQuota].Degraded, r.Context[AuxUsage].Degraded
	throttled := r.Context[AuxThrottledSeconds].Degraded
	perReq := 0.0
	if sz.degradedRate > 0 {
		perReq = usage / sz.degradedRate // means of samples ÷ mean throughput
	}
	rate, at := sz.rate, "the target rate"
	if sz.fleet != nil {
		rate, at = sz.fleet.AutoscaleRPS, "the study's autoscaling threshold"
	}
	need := usage / sz.util
	how := fmt.Sprintf("it used %.2f cores", usage)
	if perReq > 0 && rate > 0 {
		need = perReq * rate / sz.util
		how = fmt.Sprintf("%.2f ms of CPU per request (mean cores ÷ mean throughput of the degraded steps) × %.0f req/s (%s) ÷ %.0f%% utilisation (the plan's autoscale_at)", 1000*perReq, rate, at, 100*sz.util)
	}
	// A request whose CPU does not fit in one period's quota is throttled
	// however idle the rest is: the limit must hold one request a period.
	if period := r.Context[AuxPeriod].Degraded / 1e6; period > 0 && perReq > 0 && perReq/period > need {
		need = perReq / period
		how = fmt.Sprintf("one request's %.2f ms of CPU within one %.0f ms CFS period", 1000*perReq, 1000*period)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The CPU quota is the bottleneck: throttled in %.0f%% of its CFS periods", 100*r.Degraded)
	if throttled > 0 {
		fmt.Fprintf(&b, " (%.2f s throttled per second)", throttled)
	}
	if quota <= 0 {
		fmt.Fprintf(&b, " while using %.2f cores. Raise the CPU limit to at least %.2f cores (%s).", usage, math.Max(need, 1.25*usage), how)
		return b.String()
	}
	limit := math.Max(need, 1.25*quota) // above the quota it has, whatever the arithmetic
	fmt.Fprintf(&b, " while using %.2f of %.2f cores (means of samples). Raise the CPU limit from %.2f to %.2f cores (%s; at least 25%% above the current quota, which capped the measurement).",
		usage, quota, quota, limit, how)
	return b.String()
}
