package correlate

import (
	"fmt"
	"math"
	"strings"
)

// poolHold is how long a transaction held a pooler's server connection,
// at baseline and in the degraded steps, and how that was read.
type poolHold struct {
	baseMs, degMs     float64
	baseRate, degRate float64 // transactions per second
	size              float64 // the pool's size as the window ends
	how               string  // the measure, for the facts
}

// poolerHold reads a pooler's hold time. It prefers PgBouncer's own
// totals: time in transactions less the clients' wait for a connection
// (the total counts a transaction from its first statement, the wait
// included), per transaction. Without them it falls back to Little's Law
// on the sampled server connections in use ÷ transactions per second,
// which needs a baseline sample that saw a connection in use: a scrape
// rarely catches a transaction of a millisecond, and make demo's baseline
// sampled 0 in use in every scrape while PgBouncer's totals counted 0.6
// connections busy on average, so no bound can be drawn from those zeros
// either. When neither reads, the string says what was missing.
func poolerHold(lv map[string]level) (poolHold, string) {
	xacts, size := lv[sigPoolXacts], lv[sigPoolSize]
	switch {
	case !xacts.ok:
		return poolHold{}, "the exporter has no transaction counter (" + sigPoolXacts + ")"
	case !xacts.hasBase || xacts.base <= 0:
		return poolHold{}, "no transaction went through the pool at baseline"
	case xacts.deg <= 0:
		return poolHold{}, "no transaction went through the pool in the degraded steps"
	case !size.ok || size.now() <= 0:
		return poolHold{}, "the pool's size was not read (" + sigPoolSize + ")"
	}
	h := poolHold{baseRate: xacts.base, degRate: xacts.deg, size: size.now()}
	xt, wait := lv[sigPoolXactTime], lv[sigPoolWaitTime]
	if xt.ok && xt.hasBase && wait.ok && wait.hasBase {
		base, deg := xt.base-wait.base, xt.deg-wait.deg
		if base > 0 && deg > 0 {
			h.baseMs, h.degMs = 1000*base/xacts.base, 1000*deg/xacts.deg
			h.how = fmt.Sprintf("PgBouncer's time in transactions less its clients' wait, %.3f → %.2f s/s, ÷ %.0f → %.0f transactions/s", base, deg, xacts.base, xacts.deg)
			return h, ""
		}
	}
	active := lv[sigPoolActive]
	switch {
	case !active.ok || !active.hasBase:
		return poolHold{}, "neither PgBouncer's transaction time (" + sigPoolXactTime + ") nor the server connections in use at baseline were read"
	case active.base <= 0:
		return poolHold{}, fmt.Sprintf("no baseline sample saw a server connection in use (transactions shorter than a scrape at %.0f/s) and PgBouncer's transaction time (%s) was not read", xacts.base, sigPoolXactTime)
	case active.deg <= 0:
		return poolHold{}, "no server connection was seen in use in the degraded steps"
	}
	h.baseMs, h.degMs = 1000*active.base/xacts.base, 1000*active.deg/xacts.deg
	h.how = fmt.Sprintf("Little's Law: server connections in use %.2f → %.1f ÷ %.0f → %.0f transactions/s", active.base, active.deg, xacts.base, xacts.deg)
	return h, ""
}

// need is the server connections the degraded transaction rate needs at
// the baseline's hold time.
func (h poolHold) need() float64 { return h.degRate * h.baseMs / 1000 }

// cpuBound reports whether the service itself ran short of CPU, with the
// numbers: it used at least 60% of its cores (its CPU rule), or used at
// least 40% while its runnable goroutines waited 20 ms or more (p99) for
// a core, twice as long as at baseline. A service that uses little CPU is
// not what holds a pool's connections, however busy the host.
func cpuBound(r Reading) (bool, string) {
	limit := r.Context[AuxLimit].Degraded
	if limit <= 0 {
		limit = r.Context[AuxGOMAXPROCS].Degraded
	}
	if limit <= 0 {
		return false, ""
	}
	util := r.Degraded / limit
	used := fmt.Sprintf("it used %.2f of its %.2f cores (%.0f%%)", r.Degraded, limit, 100*util)
	if util >= 0.6 {
		return true, used
	}
	if s := r.Context[AuxSchedP99]; util >= 0.4 && s.Degraded >= 0.02 && s.Degraded >= 2*s.Baseline {
		return true, fmt.Sprintf("%s and its goroutines waited %.1f ms for a core (p99; %.1f ms at baseline)", used, 1000*s.Degraded, 1000*s.Baseline)
	}
	return false, ""
}

// poolerFollowsCPU ranks a pooler's queue below the CPU its requests were
// short of when the queue is that CPU's consequence: each transaction held
// its server connection at least 3× longer than at baseline (poolerHold)
// and at the baseline's hold time the degraded transaction rate would have
// needed under half the pool. The CPU is the service's own when it was
// CPU-bound (cpuBound), else the host's when its finding says the service
// waited for a core and the pool was not full on average (under 85% in
// use). A pool that is truly too small, in front of a service with CPU to
// spare, keeps its place. When a CPU finding is there and the rule does
// not fire, the pooler's facts say which condition failed.
func poolerFollowsCPU(fs []Finding, name string, pool map[string]level) {
	p, c, host := -1, -1, -1
	for i, f := range fs {
		switch {
		case f.Kind == KindPoolerWait && p < 0:
			p = i
		case f.Kind == KindCPU && f.Evidence.Signal != nil && c < 0:
			c = i
		case f.Kind == KindHostCPU && host < 0:
			host = i
		}
	}
	if p < 0 || (c < 0 && host < 0) {
		return
	}
	target := KindCPU
	if c < 0 {
		target = KindHostCPU
	}
	pf := &fs[p]
	kept := func(why string) {
		pf.Evidence.Facts = append(pf.Evidence.Facts, fmt.Sprintf("it is not read as following %s: %s", target, why))
	}
	h, missing := poolerHold(pool)
	if missing != "" {
		kept("its hold time per transaction could not be read: " + missing)
		return
	}
	held := fmt.Sprintf("a transaction held its server connection %.2f ms at baseline and %.2f ms in the degraded steps (%.1f×; %s)",
		h.baseMs, h.degMs, h.degMs/h.baseMs, h.how)
	if h.degMs < 3*h.baseMs {
		kept(held + ": under 3× longer, so the queue is not CPU-starved transactions holding their connections")
		return
	}
	if h.need() >= 0.5*h.size {
		kept(fmt.Sprintf("%s, but at the baseline's hold time %.0f transactions/s need %.1f of the %.0f server connections (half or more): the pool is small for the load", held, h.degRate, h.need(), h.size))
		return
	}
	var why, not []string
	if c >= 0 {
		if bound, used := cpuBound(*fs[c].Evidence.Signal); bound {
			why = append(why, "the service was short of CPU: "+used)
		} else {
			not = append(not, fmt.Sprintf("the service was not CPU-bound (%.2f cores used; the rule wants 60%% of its cores, or 40%% with goroutines waiting 20 ms for one)", fs[c].Evidence.Signal.Degraded))
		}
	}
	if len(why) == 0 && host >= 0 {
		if pool[sigPoolActive].deg < 0.85*h.size {
			c = host
			why = append(why, "the host's CPU was saturated: "+strings.Join(fs[host].Evidence.Facts, "; "))
		} else {
			not = append(not, fmt.Sprintf("the host's CPU was saturated but the pool was full (%.1f of %.0f in use on average)", pool[sigPoolActive].deg, h.size))
		}
	}
	if len(why) == 0 {
		kept(held + ", but " + strings.Join(not, "; "))
		return
	}
	cf := &fs[c]
	cf.cause = true
	if pf.Score >= cf.Score {
		pf.Score = cf.Score - 0.01
	}
	pf.Evidence.Facts = append(pf.Evidence.Facts,
		fmt.Sprintf("it follows %s: %s while %s", cf.Kind, held, why[0]),
		fmt.Sprintf("at the baseline's %.2f ms a transaction, %.0f transactions/s need %.1f of the %.0f server connections (Little's Law): the pool fills only because requests short of CPU hold their transactions open longer",
			h.baseMs, h.degRate, h.need(), h.size))
	pf.Recommendation = fmt.Sprintf("Do not raise %s's pool size first: its %.0f connections serve %.0f transactions/s with room at the baseline's hold time (%.2f ms, %.1f connections needed); transactions held them %.0f× longer because their requests were short of CPU. Fix the CPU first (the %s finding) and measure again.",
		name, h.size, h.degRate, h.baseMs, h.need(), math.Round(h.degMs/h.baseMs), cf.Kind)
}

// serviceCPU is the service's CPU reading, nil when it was not read.
func serviceCPU(rep *Report) *Reading {
	for i := range rep.Signals {
		if r := &rep.Signals[i]; r.Signal == SignalCPU && r.Available {
			return r
		}
	}
	return nil
}

// hostCPUFinding: the host's cores were all busy while the service, not
// CPU-bound itself (its own CPU finding speaks then), had goroutines
// waiting 20 ms or more (p99) for a core: other work on the host took the
// CPU the service's requests waited for.
func hostCPUFinding(name string, lv map[string]level, svc *Reading) (Finding, bool) {
	busy, cores := lv[sigHostBusy], lv[sigHostCores]
	if svc == nil || !busy.ok || !cores.ok || cores.deg <= 0 || busy.deg < 0.9*cores.deg {
		return Finding{}, false
	}
	sched := svc.Context[AuxSchedP99]
	if bound, _ := cpuBound(*svc); bound || sched.Degraded < 0.02 {
		return Finding{}, false
	}
	facts := []string{
		fmt.Sprintf("%.2f of its %.0f cores busy on average in the degraded steps (%.2f at baseline; idle, iowait and steal apart)", busy.deg, cores.deg, busy.base),
		fmt.Sprintf("the service used %.2f of them (%.2f at baseline): the rest was other work on the host", svc.Degraded, svc.Baseline),
		fmt.Sprintf("the service's runnable goroutines waited %.1f ms for a core (p99 scheduler latency; %.1f ms at baseline)", 1000*sched.Degraded, 1000*sched.Baseline),
	}
	return Finding{
		Kind:     KindHostCPU,
		Title:    fmt.Sprintf("host %s: its CPU was saturated and the service waited for a core", name),
		Score:    0.6,
		Evidence: Evidence{Facts: facts, Utilisation: clamp01(busy.deg / cores.deg)},
		Recommendation: fmt.Sprintf("Measure the service on a host (or a CPU reservation) of its own: other work used %.2f of the host's %.0f cores while the service's requests waited for one, so this capacity is the host's, not the service's.",
			math.Max(0, busy.deg-svc.Degraded), cores.deg),
	}, true
}

// locksBehindPooler ranks lock waits below a pooler's queue that is at
// least 10× longer: requests wait for a server connection before any of
// their statements can wait for a row, so the pooler's queue is where the
// time goes. (A pool shrunk to one connection leaves the old connections'
// last transactions contending for a moment: a lock queue of 0.5 beside
// 30 clients waiting for the pool.) With a hot row behind a pool of 20,
// most connections wait for the lock and the two queues are alike.
func locksBehindPooler(fs []Finding, pool, db map[string]level) {
	p, l := -1, -1
	for i, f := range fs {
		switch {
		case f.Kind == KindPoolerWait && p < 0:
			p = i
		case f.Kind == KindDBLocks && l < 0:
			l = i
		}
	}
	waiting, locks := pool[sigPoolWaiting], db[sigDBLockWaits]
	if p < 0 || l < 0 || !waiting.ok || !locks.ok || locks.deg <= 0 || waiting.deg < 10*locks.deg || fs[l].Score < fs[p].Score {
		return
	}
	fs[l].Score = fs[p].Score - 0.01
	fs[p].cause = true
	fs[l].Evidence.Facts = append(fs[l].Evidence.Facts, fmt.Sprintf("it ranks below %s: %.1f clients waited for a server connection against %.1f backends waiting for a lock (%.0f×): requests queue for the pool before their statements reach the row",
		fs[p].Kind, waiting.deg, locks.deg, waiting.deg/locks.deg))
}
