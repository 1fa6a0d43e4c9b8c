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
}

// recommendSignal writes the specific advice for a saturated signal.
func recommendSignal(r Reading, sz sizing) string {
	c := func(name string) Pair { return r.Context[name] }
	switch r.Signal {
	case "pool_wait", "pool_in_use":
		return recommendPool(r, sz)
	case "cpu_usage":
		return recommendCPU(r, sz)
	case "cpu_throttling":
		quota, usage := c("quota").Degraded, c("usage")
		peak := math.Max(usage.Degraded, r.Peak)
		if quota <= 0 {
			return fmt.Sprintf("The container is throttled in %.0f%% of its CFS periods: raise its CPU limit above the %.2f cores it used, to %.2f cores for %.0f%% utilisation.",
				100*r.Degraded, peak, peak/sz.util, 100*sz.util)
		}
		return fmt.Sprintf("Raise the CPU limit from %.2f cores (quota) to at least %.2f cores: it used %.2f cores and was throttled in %.0f%% of its CFS periods; %.2f cores keeps usage at %.0f%% of the limit.",
			quota, usage.Degraded/sz.util, usage.Degraded, 100*r.Degraded, usage.Degraded/sz.util, 100*sz.util)
	case "gc_pause":
		alloc, gogc := c("alloc_rate").Degraded, c("gogc").Degraded
		var b strings.Builder
		fmt.Fprintf(&b, "GC pauses take %.1f%% of the time", 100*r.Degraded)
		if alloc > 0 {
			fmt.Fprintf(&b, " at %s/s of allocation", bytesText(alloc))
			if sz.degradedRate > 0 {
				fmt.Fprintf(&b, " (%s per request)", bytesText(alloc/sz.degradedRate))
			}
		}
		b.WriteString(". Cut allocations on the hot path (reuse buffers, avoid per-request maps and fmt), ")
		if gogc > 0 {
			fmt.Fprintf(&b, "or raise GOGC from %.0f to %.0f to run fewer cycles with a bigger heap, ", gogc, 2*gogc)
		} else {
			b.WriteString("or raise GOGC (e.g. 200) to run fewer cycles with a bigger heap, ")
		}
		b.WriteString("and set GOMEMLIMIT to about 90% of the memory limit so the larger heap stays safe.")
		return b.String()
	case "memory":
		return fmt.Sprintf("Resident memory reached %s, %.0f%% of the %s limit: raise the memory limit, or set GOMEMLIMIT to about 90%% of it so the GC works harder before the kernel kills the process.",
			bytesText(r.Degraded), 100*r.Degraded/c("limit").Degraded, bytesText(c("limit").Degraded))
	case "open_fds":
		return fmt.Sprintf("%.0f of %.0f file descriptors are open: raise the limit (ulimit -n / LimitNOFILE) or look for connections that are not closed or reused.",
			r.Degraded, c("max").Degraded)
	}
	return fmt.Sprintf("%s moved from %.3g to %.3g with p99: look into what drives it (query: %s).", r.Signal, r.Baseline, r.Degraded, r.Query)
}

// recommendPool sizes the pool with Little's Law: connections busy =
// rate × time a request holds one; size = busy / target utilisation.
func recommendPool(r Reading, sz sizing) string {
	inUse, most := r.Context["in_use"], r.Context["max"].Degraded
	if r.Signal == "pool_in_use" {
		inUse = Pair{Baseline: r.Baseline, Degraded: r.Degraded}
	}
	hold, how := 0.0, ""
	switch {
	case inUse.Baseline > 0 && sz.baselineRate > 0:
		hold = inUse.Baseline / sz.baselineRate
		how = fmt.Sprintf("Little's Law on the baseline: %.2f connections in use at %.1f/s", inUse.Baseline, sz.baselineRate)
	case sz.spans != nil && sz.spans.BaselineTraces > 0:
		var dbMs float64
		for _, s := range sz.spans.Spans {
			if s.DB {
				dbMs += s.BaselineMs
			}
		}
		hold = dbMs / 1000
		how = "database span time per request in baseline traces"
	}
	if hold <= 0 || sz.rate <= 0 {
		return fmt.Sprintf("Requests queue for database connections. Size the pool with Little's Law: connections = target rate × time each request holds a connection ÷ %.2f; the hold time could not be measured here.", sz.util)
	}
	busy := sz.rate * hold
	size := int(math.Ceil(busy / sz.util))
	if most > 0 && float64(size) <= most {
		return fmt.Sprintf("Requests queue for database connections, yet Little's Law needs only %d connections at %.0f/s (each request holds one %.1f ms: %s) and the pool has %.0f: connections are held longer under load. Fix the slowest query spans (or transactions held across slow calls) before growing the pool.",
			size, sz.rate, 1000*hold, how, most)
	}
	current := ""
	if most > 0 {
		current = fmt.Sprintf(" from %.0f", most)
	}
	return fmt.Sprintf("Raise the connection pool%s to %d connections: at %.0f/s each request holds a connection %.1f ms (%s), so %.1f are busy on average; %d keeps the pool at %.0f%% utilisation. Check the database accepts that many.",
		current, size, sz.rate, 1000*hold, how, busy, size, 100*sz.util)
}

// recommendCPU turns CPU per request into an instance count or a limit.
func recommendCPU(r Reading, sz sizing) string {
	limit := r.Context["limit"].Degraded
	if limit <= 0 {
		limit = r.Context["gomaxprocs"].Degraded
	}
	perReq := 0.0
	switch {
	case r.HasBaseline && sz.baselineRate > 0 && r.Baseline > 0:
		perReq = r.Baseline / sz.baselineRate
	case sz.degradedRate > 0:
		perReq = r.Degraded / sz.degradedRate
	}
	if perReq <= 0 || sz.rate <= 0 {
		return "The service is CPU-bound: add instances or raise its CPU limit, and profile the handlers (pprof) for the hot path."
	}
	need := sz.rate * perReq
	starved := ""
	if sched := r.Context["sched_p99"]; limit > 0 && r.Degraded < 0.6*limit && sched.Degraded >= 0.01 {
		starved = fmt.Sprintf("Goroutines waited %.0f ms for a CPU while the process used only %.2f of %.2f cores: the host is oversubscribed, so reserve CPU for it (a CPU request of at least %.2f cores) as well. ",
			1000*sched.Degraded, r.Degraded, limit, need/sz.util)
	}
	if limit <= 0 {
		return fmt.Sprintf("The service is CPU-bound at %.1f ms of CPU per request: %.0f/s needs %.2f cores, %.2f cores at %.0f%% utilisation. Profile the handlers (pprof) for the hot path.",
			1000*perReq, sz.rate, need, need/sz.util, 100*sz.util)
	}
	n := int(math.Ceil(need / (sz.util * limit)))
	return starved + fmt.Sprintf("The service is CPU-bound: %.1f ms of CPU per request, so %.0f/s needs %.2f cores. Scale out to %d instances of %.2f cores (%.0f%% utilisation each), or raise one instance's limit to %.2f cores; profile the handlers (pprof) to cut CPU per request.",
		1000*perReq, sz.rate, need, max(n, 1), limit, 100*sz.util, need/sz.util)
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
