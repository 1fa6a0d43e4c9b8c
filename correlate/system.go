package correlate

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Finding kinds of the system beyond the service: each names its
// component in its title ("pooler pgbouncer: …", "database postgres: …").
const (
	KindPoolerWait  FindingKind = "pooler_wait"     // a pooler's clients wait for server connections
	KindDBCPU       FindingKind = "database_cpu"    // the database's own CPU is the limit
	KindDBLocks     FindingKind = "database_locks"  // backends wait for locks
	KindDBIndex     FindingKind = "database_index"  // a statement scans a large table; an index is proposed
	KindHostIO      FindingKind = "host_io"         // iowait, steal or a busy disk on a host
	KindHostCPU     FindingKind = "host_cpu"        // a host's cores were all busy and the service waited for one
	KindCacheMiss   FindingKind = "cache_misses"    // a cache's hit ratio fell or it evicts
	KindCappedConcy FindingKind = "concurrency_cap" // the service serves at most N requests at once
	KindDownstream  FindingKind = "downstream_slow" // a downstream's calls slowed down
)

// level is a signal's mean over the baseline and the degraded window.
type level struct {
	ok                 bool
	base, deg, degPeak float64
	flat               float64 // share of degraded samples within 10% of the peak
	hasBase            bool
	last               float64 // the degraded window's latest sample (a setting as it ends)
	hasLast            bool
	med                float64 // the median degraded sample from the onset on
	atMed              float64 // share of those samples within 10% (at least ±0.5) of the median
}

// now is the level as the degraded window ends (a pool resized inside the
// window averages to a size it never had), else its mean.
func (l level) now() float64 {
	if l.hasLast {
		return l.last
	}
	return l.deg
}

// system is what the components and the service's own concurrency say.
type system struct {
	findings     []Finding
	notAvailable []string
	notes        []string
	poolerName   string           // the plan's pooler, "" when it has none
	pooler       map[string]level // its readings
	database     map[string]level // the plan's first database's readings
}

// explainSystem reads the plan's components, the service's concurrency
// and, with observe.database, the slow statements' plans, and returns
// findings that name their component. Nothing here fails a correlation:
// what cannot be read is a "not available" line.
func explainSystem(ctx context.Context, in Input, src Sources, rep *Report) system {
	var sys system
	if !rep.Window.Found {
		return sys
	}
	step := time.Second
	if rep.Resolution != nil && rep.Resolution.StepS > 0 {
		step = time.Duration(rep.Resolution.StepS * float64(time.Second))
	}
	comps := in.Observe.Components
	levels := map[string]map[string]level{} // component → signal → level
	if src.Metrics == nil {
		if len(comps) > 0 {
			sys.notAvailable = append(sys.notAvailable, "components: not available: no Prometheus to read them from")
		}
	} else {
		for _, c := range comps {
			levels[c.Name] = readComponent(ctx, src.Metrics, c, rep.Window, step, &sys)
		}
		if svcMs, err := ParseSelector(in.Observe.Selector); err == nil {
			svc := map[string]level{}
			for _, sig := range serviceSignals() {
				svc[sig.Name], _ = readLevel(ctx, src.Metrics, sig, svcMs, rep.Window, step)
			}
			if f, ok := cappedConcurrency(svc, rep.Window, len(in.Steps) > 0, rep.Spans, serviceName(in)); ok {
				sys.findings = append(sys.findings, f)
			}
		}
	}
	stmts := statementsOf(rep)
	dbName := componentOf(comps, plan.KindDatabase, "database")
	var advice []statementAdvice
	if in.Observe.Database != nil {
		var na []string
		advice, na = adviseStatements(ctx, in.Observe.Database, src.DSN, stmts, src.Metrics, rep.Window, step)
		sys.notAvailable = append(sys.notAvailable, na...)
	} else if len(stmts) > 0 && len(comps) > 0 {
		sys.notAvailable = append(sys.notAvailable, "explain: not available: observe.database is not set in the plan (no EXPLAIN or index advice)")
	}
	for _, c := range comps {
		lv := levels[c.Name]
		switch c.Kind {
		case plan.KindPooler:
			if sys.poolerName == "" {
				sys.poolerName, sys.pooler = c.Name, lv
			}
			if f, ok := poolerFinding(c.Name, lv, levels[componentOf(comps, plan.KindDatabase, "")], levels[componentOf(comps, plan.KindHost, "")]); ok {
				sys.findings = append(sys.findings, f)
			}
		case plan.KindDatabase:
			if sys.database == nil {
				sys.database = lv
			}
			sys.findings = append(sys.findings, databaseFindings(c.Name, lv, levels[componentOf(comps, plan.KindHost, "")], stmts)...)
		case plan.KindHost:
			if f, ok := hostFinding(c.Name, lv); ok {
				sys.findings = append(sys.findings, f)
			}
			if f, ok := hostCPUFinding(c.Name, lv, serviceCPU(rep)); ok {
				sys.findings = append(sys.findings, f)
			}
		case plan.KindCache:
			if f, ok := cacheFinding(c.Name, lv); ok {
				sys.findings = append(sys.findings, f)
			}
		}
	}
	sys.findings = append(sys.findings, indexFindings(dbName, advice)...)
	deferDatabaseCPU(sys.findings, rep)
	return sys
}

// readComponent reads one component's catalog with its selector.
func readComponent(ctx context.Context, m Metrics, c plan.Component, w Window, step time.Duration, sys *system) map[string]level {
	out := map[string]level{}
	ms, err := ParseSelector(c.Selector)
	if err != nil {
		sys.notAvailable = append(sys.notAvailable, fmt.Sprintf("component %s (%s): not available: selector: %v", c.Name, c.Kind, err))
		return out
	}
	if up, _ := readLevel(ctx, m, Signal{Name: "up", Queries: []string{`min(up)`}}, ms, w, step); up.ok && up.deg < 1 {
		sys.notAvailable = append(sys.notAvailable, fmt.Sprintf("component %s (%s): its exporter was down during the degradation (up %s = %.2f): its signals are partial or missing", c.Name, c.Kind, c.Selector, up.deg))
	}
	for _, sig := range componentSignals(c.Kind) {
		lv, reason := readLevel(ctx, m, sig, ms, w, step)
		out[sig.Name] = lv
		if !lv.ok {
			sys.notAvailable = append(sys.notAvailable, fmt.Sprintf("component %s (%s): signal %s: not available: %s", c.Name, c.Kind, sig.Name, reason))
		}
	}
	return out
}

// readLevel queries a signal's alternatives over baseline and degraded
// window; the first with samples in the degraded window wins.
func readLevel(ctx context.Context, m Metrics, sig Signal, ms []Matcher, w Window, step time.Duration) (level, string) {
	from := w.Start
	if w.HasBaseline() {
		from = minTime(from, w.BaselineStart)
	}
	reason := "no series for " + strings.Join(sig.Queries, " or ")
	for _, tmpl := range sig.Queries {
		q, err := expand(tmpl, ms, step)
		if err != nil {
			return level{}, err.Error()
		}
		series, err := m.QueryRange(ctx, q, from, w.End, step)
		if err != nil {
			reason = err.Error()
			continue
		}
		var base, deg, onset []float64
		var last time.Time
		var lastV float64
		spans := degradedSpans(w, coverFor(q, step))
		for _, s := range series {
			for _, p := range s.Samples {
				if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
					continue
				}
				switch {
				case within(p.At, spans):
					deg = append(deg, p.Value)
					if !p.At.Before(w.Onset) || len(w.Parts) > 0 {
						onset = append(onset, p.Value)
					}
					if len(deg) == 1 || p.At.After(last) {
						last, lastV = p.At, p.Value
					}
				case w.HasBaseline() && !p.At.Before(w.BaselineStart) && !p.At.After(w.BaselineEnd):
					base = append(base, p.Value)
				}
			}
		}
		if len(deg) == 0 {
			continue
		}
		lv := level{ok: true, deg: mean(deg), degPeak: deg[0], hasBase: len(base) > 0, last: lastV, hasLast: true}
		for _, v := range deg {
			lv.degPeak = math.Max(lv.degPeak, v)
		}
		near := 0
		for _, v := range deg {
			if v >= 0.9*lv.degPeak {
				near++
			}
		}
		lv.flat = float64(near) / float64(len(deg))
		// The median level from the onset on: the margin before it holds
		// the samples before the fault.
		if len(onset) == 0 {
			onset = deg
		}
		sorted := append([]float64(nil), onset...)
		sort.Float64s(sorted)
		lv.med = sorted[len(sorted)/2]
		at := 0
		for _, v := range onset {
			if math.Abs(v-lv.med) <= math.Max(0.1*lv.med, 0.5) {
				at++
			}
		}
		lv.atMed = float64(at) / float64(len(onset))
		if lv.hasBase {
			lv.base = mean(base)
		}
		return lv, ""
	}
	return level{}, reason
}

// degradedSpans are the times a component's degraded samples come from:
// a study's degraded steps (the measured part of each, as the service's
// signals read them: never the gaps between steps, where verification
// loads the other instances through the same pooler and database), else
// the whole degraded window.
func degradedSpans(w Window, cv cover) [][2]time.Time {
	if len(w.Parts) == 0 {
		return [][2]time.Time{{w.Start, w.End}}
	}
	out := make([][2]time.Time, 0, len(w.Parts))
	for _, p := range w.Parts {
		a, b := cv.of(p.Start, p.End)
		out = append(out, [2]time.Time{a, b})
	}
	return out
}

func within(at time.Time, spans [][2]time.Time) bool {
	for _, sp := range spans {
		if !at.Before(sp[0]) && !at.After(sp[1]) {
			return true
		}
	}
	return false
}

func mean(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	var s float64
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}

// componentOf is the name of the plan's first component of kind, or def.
func componentOf(cs []plan.Component, kind plan.ComponentKind, def string) string {
	for _, c := range cs {
		if c.Kind == kind {
			return c.Name
		}
	}
	return def
}

func serviceName(in Input) string {
	if in.Observe.Service != "" {
		return in.Observe.Service
	}
	return "the service"
}

// cappedConcurrency: requests being served flat at N while the CPU stays
// under half of what the service may use and latency rises — a worker
// pool, semaphore or connection limit caps it.
func cappedConcurrency(svc map[string]level, w Window, offeredKnown bool, spans *Breakdown, name string) (Finding, bool) {
	serving, cpu, cores := svc[sigSvcServing], svc[sigSvcCPU], svc[sigSvcMaxProcs]
	if !serving.ok || serving.degPeak < 1 || w.DegradedP99Ms < 1.5*w.BaselineP99Ms {
		return Finding{}, false
	}
	// A cap holds throughput below the offered load (known for a study's
	// steps); a slower dependency raises concurrency too, but then its
	// client spans explain the added latency. Per-second input has no
	// offered rate (the window's is its achieved rate, whose median and
	// mean differ by a partial second).
	// Without it, a steady load on a slower dependency also holds
	// concurrency flat: only requests seen queueing for a slot tell a cap.
	if !offeredKnown {
		if q := svc[sigSvcQueued]; !q.ok || q.deg < 0.5 {
			return Finding{}, false
		}
	}
	if offeredKnown && w.DegradedOffered > 1.01*w.DegradedRate {
		if w.DegradedRate >= 0.9*w.DegradedOffered {
			return Finding{}, false
		}
	} else if downstreamExplains(spans) {
		return Finding{}, false
	}
	// The cap is the level most samples sit at: a sample can catch one
	// request finishing as the next takes its slot (one over), and the
	// window's margin before the onset holds uncapped samples.
	n := math.Round(serving.med)
	if n < 1 || serving.atMed < 0.7 || (serving.hasBase && serving.base > 0.7*n) {
		return Finding{}, false
	}
	if !cpu.ok || !cores.ok || cores.deg <= 0 || cpu.deg >= 0.5*cores.deg {
		return Finding{}, false
	}
	x := w.DegradedRate
	facts := []string{
		fmt.Sprintf("requests being served held at %.0f in %.0f%% of the samples from the onset on (mean %.1f in the degraded window, %.1f at baseline)", n, 100*serving.atMed, serving.deg, serving.base),
		fmt.Sprintf("CPU %.2f of %.2f cores (%.0f%%): not the limit", cpu.deg, cores.deg, 100*cpu.deg/cores.deg),
		fmt.Sprintf("p99 rose from %.1f ms to %.1f ms", w.BaselineP99Ms, w.DegradedP99Ms),
	}
	rec := fmt.Sprintf("Raise or remove the concurrency limit of %s (a worker pool, semaphore or connection limit of %.0f): the CPU has room.", name, n)
	if x > 0 {
		s := n / x
		facts = append(facts, fmt.Sprintf("Little's Law: %.0f at once ÷ %.1f req/s = %.1f ms in service each; the cap allows at most %.0f ÷ %.1f ms = %.1f req/s",
			n, x, 1000*s, n, 1000*s, x))
		rec += fmt.Sprintf(" By Little's Law each request holds a slot %.1f ms, so %.0f slots serve at most %.1f req/s; to serve %.1f req/s at the same latency it needs at least %.0f.",
			1000*s, n, x, 2*x, math.Ceil(2*x*s))
	}
	return Finding{
		Kind:           KindCappedConcy,
		Title:          fmt.Sprintf("service %s: serves at most %.0f requests at once", name, n),
		Score:          0.92,
		Evidence:       Evidence{Facts: facts},
		Recommendation: rec,
	}, true
}

// poolerFinding: clients queue for server connections.
func poolerFinding(name string, lv, db, host map[string]level) (Finding, bool) {
	waiting, wait, active, size := lv[sigPoolWaiting], lv[sigPoolWaitTime], lv[sigPoolActive], lv[sigPoolSize]
	if !waiting.ok || waiting.deg < 1 || (waiting.hasBase && waiting.base*3 > waiting.deg) {
		return Finding{}, false
	}
	full := active.ok && size.ok && size.now() > 0 && active.deg >= 0.85*size.now()
	if !full && !(wait.ok && wait.deg >= 0.05) {
		return Finding{}, false
	}
	facts := []string{fmt.Sprintf("%.1f clients waiting for a server connection on average (%.1f at baseline)", waiting.deg, waiting.base)}
	if wait.ok {
		facts = append(facts, fmt.Sprintf("clients waited %.2f s per second in total (%.2f at baseline)", wait.deg, wait.base))
	}
	if active.ok && size.ok {
		facts = append(facts, fmt.Sprintf("server connections in use %.1f of a pool of %.0f", active.deg, size.now()))
	}
	score := 0.9
	rec := "Raise the pooler's pool size"
	if size.ok {
		rec = fmt.Sprintf("Raise %s's pool size (pgbouncer: default_pool_size or the database's pool_size) from %.0f", name, size.now())
	}
	dbCPU, cores := db[sigDBCPU], host[sigHostCores]
	if n := size.now(); active.ok && size.ok && n > 0 && active.deg < 0.5*n && active.degPeak < n {
		// Clients wait while most server connections sit idle and the pool
		// was never full: its size is not what they wait for (the pooler
		// itself, or the host it runs on, is slow to hand connections
		// out). A symptom, not the cause.
		facts = append(facts, fmt.Sprintf("the pool was never full (%.0f%% of its server connections in use, mean of samples; at most %.0f)", 100*active.deg/n, active.degPeak))
		return Finding{Kind: KindPoolerWait, Title: fmt.Sprintf("pooler %s: clients wait for a server connection", name),
			Score: 0.5, Evidence: Evidence{Facts: facts},
			Recommendation: fmt.Sprintf("Do not raise %s's pool size: %.1f of its %.0f server connections were in use, so clients waited on the pooler or on the host it shares, not on the pool; look at the host's CPU and the service's findings first.", name, active.deg, n)}, true
	}
	if dbCPU.ok && cores.ok && cores.deg > 0 && dbCPU.deg >= 0.8*cores.deg {
		score = 0.6
		facts = append(facts, fmt.Sprintf("but the database already uses %.2f of %.0f cores: the queue follows the database", dbCPU.deg, cores.deg))
		rec += " only after the database's own load is fixed: it is saturated, and more connections would queue inside it instead."
	} else {
		if dbCPU.ok {
			facts = append(facts, fmt.Sprintf("the database uses %.2f cores: it has room for more connections", dbCPU.deg))
		}
		rec += ", as long as the database keeps headroom (max_connections, CPU); or hold connections for less time."
	}
	return Finding{Kind: KindPoolerWait, Title: fmt.Sprintf("pooler %s: clients wait for a server connection", name),
		Score: score, Evidence: Evidence{Facts: facts}, Recommendation: rec}, true
}

// databaseFindings: lock waits and the database's own CPU.
func databaseFindings(name string, lv, host map[string]level, stmts []stmtTime) []Finding {
	var out []Finding
	if locks := lv[sigDBLockWaits]; locks.ok && locks.deg >= 0.5 && (!locks.hasBase || locks.base*3 < locks.deg) {
		facts := []string{fmt.Sprintf("%.1f backends waiting for a lock on average (%.1f at baseline)", locks.deg, locks.base)}
		rec := "Shorten the transactions that hold the contended rows, or stop many requests updating the same row (counters: shard them or aggregate asynchronously)."
		if s := writeHolder(stmts); s != nil {
			facts = append(facts, fmt.Sprintf("the contended write: %q, %.1f ms per request in the degraded traces (%.1f ms at baseline); its transaction holds the row lock until COMMIT", s.stmt, s.degMs, s.baseMs))
			rec = fmt.Sprintf("The statement %q makes concurrent transactions queue on one row: %s", s.stmt, rec)
		}
		out = append(out, Finding{Kind: KindDBLocks, Title: fmt.Sprintf("database %s: transactions wait for row locks", name),
			Score: 0.93, Evidence: Evidence{Facts: facts}, Recommendation: rec})
	}
	cpu, cores := lv[sigDBCPU], host[sigHostCores]
	if cpu.ok && cpu.deg >= 0.4 && (!cpu.hasBase || cpu.deg >= 1.5*cpu.base) {
		util := 0.0
		facts := []string{fmt.Sprintf("the database's own processes used %.2f cores (%.2f at baseline)", cpu.deg, cpu.base)}
		if cores.ok && cores.deg > 0 {
			util = cpu.deg / cores.deg
			facts = append(facts, fmt.Sprintf("%.0f%% of the host's %.0f cores", 100*util, cores.deg))
		}
		if util == 0 || util >= 0.4 {
			out = append(out, Finding{Kind: KindDBCPU, Title: fmt.Sprintf("database %s: its CPU rose to %.2f cores", name, cpu.deg),
				Score: 0.7 + 0.2*clamp01(util), Evidence: Evidence{Facts: facts, Utilisation: util},
				Recommendation: "Find the statements that burn it (pg_stat_statements, EXPLAIN): a missing index or a repeated query costs more than more cores."})
		}
	}
	return out
}

// hostFinding: iowait, steal or a saturated disk.
func hostFinding(name string, lv map[string]level) (Finding, bool) {
	io, steal, disk := lv[sigHostIOWait], lv[sigHostSteal], lv[sigHostDiskBusy]
	var facts []string
	if io.ok && io.deg >= 0.2 && io.deg >= 2*io.base {
		facts = append(facts, fmt.Sprintf("%.2f cores in iowait (%.2f at baseline)", io.deg, io.base))
	}
	if steal.ok && steal.deg >= 0.1 && steal.deg >= 2*steal.base {
		facts = append(facts, fmt.Sprintf("%.2f cores stolen by the hypervisor (%.2f at baseline)", steal.deg, steal.base))
	}
	if disk.ok && disk.deg >= 0.8 {
		facts = append(facts, fmt.Sprintf("the busiest disk was busy %.0f%% of the time", 100*disk.deg))
	}
	if len(facts) == 0 {
		return Finding{}, false
	}
	return Finding{Kind: KindHostIO, Title: fmt.Sprintf("host %s: waits on I/O or the hypervisor", name), Score: 0.7,
		Evidence: Evidence{Facts: facts}, Recommendation: "Look at the disk and the neighbours: faster storage, less write amplification, or a host without CPU steal."}, true
}

// cacheFinding: the hit ratio fell or the cache evicts.
func cacheFinding(name string, lv map[string]level) (Finding, bool) {
	hit, ev := lv[sigCacheHitRatio], lv[sigCacheEvictions]
	if !hit.ok || !hit.hasBase || hit.base-hit.deg < 0.1 {
		return Finding{}, false
	}
	facts := []string{fmt.Sprintf("hit ratio fell from %.0f%% to %.0f%%", 100*hit.base, 100*hit.deg)}
	if ev.ok && ev.deg > 0 {
		facts = append(facts, fmt.Sprintf("%.1f evictions per second (%.1f at baseline)", ev.deg, ev.base))
	}
	return Finding{Kind: KindCacheMiss, Title: fmt.Sprintf("cache %s: its hit ratio fell", name), Score: 0.65,
		Evidence: Evidence{Facts: facts}, Recommendation: "Give the cache more memory or longer TTLs for the hot keys; misses go to the database."}, true
}

// withSystem adds the system's findings and not-available lines to a
// report whose own findings are base, and, when the plan names components,
// says which component each of the service's own findings blames.
func withSystem(ctx context.Context, in Input, src Sources, rep *Report, base []Finding) []Finding {
	sys := explainSystem(ctx, in, src, rep)
	rep.NotAvailable = append(rep.NotAvailable, sys.notAvailable...)
	rep.Notes = append(rep.Notes, sys.notes...)
	if len(in.Observe.Components) > 0 {
		db := componentOf(in.Observe.Components, plan.KindDatabase, "database")
		for i := range base {
			switch base[i].Kind {
			case KindUnexplained:
			case KindSlowQuery:
				base[i].Title = "database " + db + ": " + base[i].Title
			default:
				base[i].Title = "service " + serviceName(in) + ": " + base[i].Title
			}
		}
	}
	out := append(base, sys.findings...)
	if sys.poolerName != "" {
		poolerFollowsCPU(out, sys.poolerName, sys.pooler)
		locksBehindPooler(out, sys.pooler, sys.database)
	}
	return out
}

// downstreamExplains reports whether calls out of the service explain
// most of the added latency.
func downstreamExplains(b *Breakdown) bool {
	if b == nil {
		return false
	}
	var share float64
	for _, s := range b.Spans {
		if s.Client && !s.DB {
			share += s.Share
		}
	}
	return share >= 0.4
}

// deferDatabaseCPU weighs the database's CPU finding down when a statement
// explains it: an N+1 pattern or a scan an index would avoid burns the
// CPU, and that is the finding to act on.
func deferDatabaseCPU(fs []Finding, rep *Report) {
	cause := ""
	for _, f := range fs {
		if f.Kind == KindDBIndex {
			cause = "a statement scans a large table (the index finding)"
		}
	}
	for _, r := range rep.Repeats {
		if r.Statement != "" && r.MaxCount >= 10 {
			cause = fmt.Sprintf("one request repeats %q %d times (N+1)", r.Statement, r.MaxCount)
		}
	}
	if cause == "" {
		return
	}
	for i := range fs {
		if fs[i].Kind == KindDBCPU {
			fs[i].Score = math.Min(fs[i].Score, 0.6)
			fs[i].Evidence.Facts = append(fs[i].Evidence.Facts, "consistent with "+cause+": fix that first")
		}
	}
}
