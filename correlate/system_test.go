package correlate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/correlate/pgexplain"
	"github.com/headroom-sre/headroom/plan"
)

func lv(base, deg float64) level {
	return level{ok: true, base: base, deg: deg, degPeak: deg, flat: 1, hasBase: true, med: deg, atMed: 1}
}

// TestComponentRulesNameTheirComponent: each rule fires on its pattern,
// stays quiet on a healthy one, and names its component.
func TestComponentRulesNameTheirComponent(t *testing.T) {
	w := Window{Found: true, BaselineEnd: t0, BaselineP99Ms: 20, DegradedP99Ms: 400, DegradedRate: 30, DegradedOffered: 30}
	cases := []struct {
		name      string
		find      func() (Finding, bool)
		wantTitle string // "" = must not fire
		wantText  string
	}{
		{"pool too small", func() (Finding, bool) {
			return poolerFinding("pgbouncer", map[string]level{sigPoolWaiting: lv(0, 30), sigPoolWaitTime: lv(0, 4), sigPoolActive: lv(1, 1), sigPoolSize: lv(1, 1)},
				map[string]level{sigDBCPU: lv(0.05, 0.2)}, map[string]level{sigHostCores: lv(2, 2)})
		}, "pooler pgbouncer: clients wait", "from 1"},
		{"pool shrunk inside the window names the size it has", func() (Finding, bool) {
			size := level{ok: true, base: 20, deg: 7, degPeak: 20, hasBase: true, last: 1, hasLast: true}
			return poolerFinding("pgbouncer", map[string]level{sigPoolWaiting: lv(0, 30), sigPoolWaitTime: lv(0, 4), sigPoolActive: lv(1, 0.7), sigPoolSize: size},
				map[string]level{sigDBCPU: lv(0.05, 0.2)}, map[string]level{sigHostCores: lv(2, 2)})
		}, "pooler pgbouncer: clients wait", "from 1,"},
		{"pool queue behind a saturated database", func() (Finding, bool) {
			return poolerFinding("pgbouncer", map[string]level{sigPoolWaiting: lv(0, 30), sigPoolActive: lv(10, 20), sigPoolSize: lv(20, 20)},
				map[string]level{sigDBCPU: lv(0.3, 1.9)}, map[string]level{sigHostCores: lv(2, 2)})
		}, "pooler pgbouncer:", "saturated"},
		{"clients wait while the pool is not full", func() (Finding, bool) {
			// The demo on 2 busy cores: 3.2 waiting, 2.4 of 20 in use.
			return poolerFinding("pgbouncer", map[string]level{sigPoolWaiting: lv(0, 3.2), sigPoolWaitTime: lv(0, 1.89), sigPoolActive: lv(1, 2.4), sigPoolSize: lv(20, 20)},
				map[string]level{sigDBCPU: lv(0.05, 0.17)}, map[string]level{sigHostCores: lv(2, 2)})
		}, "pooler pgbouncer: clients wait", "Do not raise pgbouncer's pool size"},
		{"pool healthy", func() (Finding, bool) {
			return poolerFinding("pgbouncer", map[string]level{sigPoolWaiting: lv(0, 0), sigPoolActive: lv(1, 3), sigPoolSize: lv(20, 20)}, nil, nil)
		}, "", ""},
		{"capped concurrency", func() (Finding, bool) {
			return cappedConcurrency(map[string]level{sigSvcServing: lv(1, 4), sigSvcCPU: lv(0.05, 0.1), sigSvcMaxProcs: lv(2, 2)}, w, true, nil, "shop")
		}, "service shop: serves at most 4 requests at once", "Little's Law"},
		{"capped concurrency on per-second input (no offered rate)", func() (Finding, bool) {
			ws := w
			ws.DegradedRate, ws.DegradedOffered = 56.8, 60 // mean vs median of the achieved rate
			return cappedConcurrency(map[string]level{sigSvcServing: lv(0.4, 1), sigSvcQueued: lv(0, 30), sigSvcCPU: lv(0.1, 0.2), sigSvcMaxProcs: lv(2, 2)}, ws, false, nil, "shop")
		}, "service shop: serves at most 1 requests at once", "Little's Law"},
		{"flat concurrency on per-second input with no queue is no cap", func() (Finding, bool) {
			ws := w
			ws.DegradedRate, ws.DegradedOffered = 56.8, 60
			return cappedConcurrency(map[string]level{sigSvcServing: lv(0.4, 1), sigSvcCPU: lv(0.1, 0.2), sigSvcMaxProcs: lv(2, 2)}, ws, false, nil, "shop")
		}, "", ""},
		{"a cap that passes the offered load is no cap", func() (Finding, bool) {
			ws := w
			ws.DegradedRate, ws.DegradedOffered = 56.8, 60
			return cappedConcurrency(map[string]level{sigSvcServing: lv(0.4, 1), sigSvcCPU: lv(0.1, 0.2), sigSvcMaxProcs: lv(2, 2)}, ws, true, nil, "shop")
		}, "", ""},
		{"busy CPU is no cap", func() (Finding, bool) {
			return cappedConcurrency(map[string]level{sigSvcServing: lv(1, 4), sigSvcCPU: lv(0.5, 1.8), sigSvcMaxProcs: lv(2, 2)}, w, true, nil, "shop")
		}, "", ""},
		{"a slow downstream is no cap", func() (Finding, bool) {
			b := &Breakdown{Spans: []SpanDelta{{Name: "payment", Client: true, Share: 0.9}}}
			return cappedConcurrency(map[string]level{sigSvcServing: lv(1, 4), sigSvcCPU: lv(0.05, 0.1), sigSvcMaxProcs: lv(2, 2)}, w, true, b, "shop")
		}, "", ""},
		{"iowait", func() (Finding, bool) {
			return hostFinding("db-host", map[string]level{sigHostIOWait: lv(0.01, 0.6)})
		}, "host db-host:", "iowait"},
		{"cache", func() (Finding, bool) {
			return cacheFinding("redis", map[string]level{sigCacheHitRatio: lv(0.95, 0.6), sigCacheEvictions: lv(0, 40)})
		}, "cache redis:", "95% to 60%"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, ok := c.find()
			if c.wantTitle == "" {
				if ok {
					t.Fatalf("fired: %q", f.Title)
				}
				return
			}
			if !ok || !strings.HasPrefix(f.Title, c.wantTitle) {
				t.Fatalf("finding %v %q, want %q", ok, f.Title, c.wantTitle)
			}
			if text := f.Recommendation + strings.Join(f.Evidence.Facts, " "); !strings.Contains(text, c.wantText) {
				t.Errorf("%q lacks %q", text, c.wantText)
			}
		})
	}
}

// TestDatabaseLocksNameTheContendedWrite: lock waits name the write whose
// transactions hold the row.
func TestDatabaseLocksNameTheContendedWrite(t *testing.T) {
	stmts := []stmtTime{
		{stmt: "SELECT id FROM carts WHERE id = $1", baseMs: 1, degMs: 2},
		{stmt: "UPDATE counters SET value = value + 1 WHERE name = 'orders'", baseMs: 1, degMs: 300},
		{stmt: "INSERT INTO sessions (token, user_id, created_at) VALUES ($1, $2, $3)", baseMs: 0, degMs: 400}, // new rows: not the holder
	}
	fs := databaseFindings("postgres", map[string]level{sigDBLockWaits: lv(0, 6)}, nil, stmts)
	if len(fs) != 1 || fs[0].Kind != KindDBLocks || !strings.HasPrefix(fs[0].Title, "database postgres:") ||
		!strings.Contains(strings.Join(fs[0].Evidence.Facts, " "), "UPDATE counters") {
		t.Fatalf("findings %+v", fs)
	}
}

// fakeMetrics answers by the first key found in the query; "" matches none.
type fakeMetrics map[string]float64

func (f fakeMetrics) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) ([]Series, error) {
	for k, v := range f {
		if strings.Contains(q, k) {
			var s Series
			for at := start; !at.After(end); at = at.Add(step) {
				s.Samples = append(s.Samples, Sample{At: at, Value: v})
			}
			return []Series{s}, nil
		}
	}
	return nil, nil
}

// TestComponentsNotAvailableSayWhy: an exporter that is down and signals
// without series become not-available lines; nothing fails.
func TestComponentsNotAvailableSayWhy(t *testing.T) {
	w := Window{Found: true, Start: t0.Add(60 * time.Second), End: t0.Add(90 * time.Second), BaselineStart: t0, BaselineEnd: t0.Add(50 * time.Second)}
	var sys system
	got := readComponent(context.Background(), fakeMetrics{"min(up": 0, "pgbouncer_pools_client_waiting_connections": 3},
		plan.Component{Name: "pgbouncer", Kind: plan.KindPooler, Selector: `{job="pgbouncer"}`}, w, time.Second, &sys)
	if !got[sigPoolWaiting].ok || got[sigPoolWaiting].deg != 3 {
		t.Errorf("waiting clients: %+v", got[sigPoolWaiting])
	}
	text := strings.Join(sys.notAvailable, "\n")
	for _, want := range []string{"component pgbouncer (pooler): its exporter was down", "signal pooler_wait_time: not available: no series"} {
		if !strings.Contains(text, want) {
			t.Errorf("not available lines lack %q:\n%s", want, text)
		}
	}
	if _, err := ParseSelector(`{job="pgbouncer"}`); err != nil {
		t.Fatal(err)
	}
}

// TestStatementsNeedTheDSN: observe.database whose variable gave no DSN
// says so instead of failing; correlate never reads the variable itself.
func TestStatementsNeedTheDSN(t *testing.T) {
	t.Setenv("HEADROOM_TEST_UNSET_DSN", "postgres://must-not-be-read")
	_, na := adviseStatements(context.Background(), &plan.Database{Driver: "postgres", DSNEnv: "HEADROOM_TEST_UNSET_DSN"}, "",
		[]stmtTime{{stmt: "SELECT 1"}}, nil, Window{}, time.Second)
	if len(na) != 1 || !strings.Contains(na[0], "HEADROOM_TEST_UNSET_DSN") || !strings.Contains(na[0], "is not set") {
		t.Fatalf("not available: %v", na)
	}
}

// TestPoolerFollowsTheServiceCPU: readings shaped like make demo's
// (PostgreSQL behind PgBouncer, the shop burning 2 ms of CPU a request on
// 2 cores; the means over its degraded steps, read from that run's
// Prometheus): the pool of 20 filled in bursts only because CPU-starved
// requests held each transaction's server connection 24× longer, so the
// pooler ranks below the service's CPU. A truly small pool in front of a
// service with CPU to spare keeps the pooler first.
func TestPoolerFollowsTheServiceCPU(t *testing.T) {
	peak := func(l level, p float64) level { l.degPeak = p; return l }
	demoPool := map[string]level{
		sigPoolWaiting: peak(lv(0, 17.2), 121), sigPoolWaitTime: lv(0.003, 29.9),
		sigPoolActive: peak(lv(0.375, 11.7), 20), sigPoolSize: lv(20, 20), sigPoolXacts: lv(710, 921),
	}
	smallPool := map[string]level{ // pool 1 at 40 buys/s, the pgbouncer_pool scenario's shape
		sigPoolWaiting: lv(0, 30), sigPoolWaitTime: lv(0, 4), sigPoolActive: lv(0.15, 1), sigPoolSize: lv(20, 1), sigPoolXacts: lv(20, 45),
	}
	without := func(m map[string]level, sig string) map[string]level {
		out := map[string]level{}
		for k, v := range m {
			if k != sig {
				out[k] = v
			}
		}
		return out
	}
	with := func(m map[string]level, sig string, l level) map[string]level {
		out := without(m, sig)
		out[sig] = l
		return out
	}
	cpu := func(cores, schedBase, schedDeg float64) Finding {
		r := Reading{Signal: SignalCPU, Resource: ResourceCPU, Available: true, Baseline: 0.915, Degraded: cores, HasBaseline: true,
			Context: map[string]Pair{AuxGOMAXPROCS: {Baseline: 2, Degraded: 2}, AuxSchedP99: {Baseline: schedBase, Degraded: schedDeg}}}
		a := assess(r)
		return Finding{Kind: KindCPU, Title: "service shop: cpu_usage: CPU cores used", Score: 0.768, Evidence: Evidence{Facts: a.facts, Signal: &r}}
	}
	cases := []struct {
		name     string
		pool     map[string]level
		cpu      Finding
		wantTop  FindingKind
		wantText string // in the pooler's recommendation
	}{
		{"make demo: CPU-bound service, hold time 24× longer", demoPool, cpu(1.26, 0.054, 0.112), KindCPU, "Do not raise pgbouncer's pool size first"},
		{"CPU under 60% but goroutines wait twice as long for a core", demoPool, cpu(1.0, 0.05, 0.11), KindCPU, "waited 110.0 ms for a core"},
		{"a small pool in front of a service with CPU to spare", smallPool, cpu(0.08, 0.005, 0.06), KindPoolerWait, "from 1"},
		{"the service's CPU had room", demoPool, cpu(0.6, 0.01, 0.012), KindPoolerWait, "from 20"},
		{"hold time did not grow", with(demoPool, sigPoolActive, peak(lv(0.375, 0.9), 20)), cpu(1.26, 0.054, 0.112), KindPoolerWait, "from 20"},
		{"no transaction counter (Debian's exporter)", without(demoPool, sigPoolXacts), cpu(1.26, 0.054, 0.112), KindPoolerWait, "from 20"},
	}
	// make demo on a host busy with other work (load average 9 on 2
	// cores): the host's CPU finding, and the pooler below it only when
	// its transactions held their connections 3× longer.
	contended := map[string]level{
		sigPoolWaiting: peak(lv(0, 3.2), 24), sigPoolWaitTime: lv(0.005, 0.159),
		sigPoolActive: peak(lv(2.125, 7.4), 20), sigPoolSize: lv(20, 20), sigPoolXacts: lv(179, 315),
	}
	svc := &Reading{Signal: SignalCPU, Available: true, Baseline: 0.254, Degraded: 0.42, HasBaseline: true,
		Context: map[string]Pair{AuxGOMAXPROCS: {Baseline: 2, Degraded: 2}, AuxSchedP99: {Baseline: 0.031, Degraded: 0.039}}}
	host, ok := hostCPUFinding("host", map[string]level{sigHostBusy: lv(2.0, 1.986), sigHostCores: lv(2, 2)}, svc)
	if !ok || !strings.HasPrefix(host.Title, "host host: its CPU was saturated") || !strings.Contains(strings.Join(host.Evidence.Facts, " "), "the service used 0.42") {
		t.Fatalf("host CPU finding %v %+v", ok, host)
	}
	if _, ok := hostCPUFinding("host", map[string]level{sigHostBusy: lv(1.0, 1.2), sigHostCores: lv(2, 2)}, svc); ok {
		t.Error("host CPU finding on a host with idle cores")
	}
	hostCases := []struct {
		name    string
		pool    map[string]level
		wantTop FindingKind
	}{
		{"hold time 2× longer: the pooler keeps its place", contended, KindPoolerWait},
		{"hold time 4× longer: the pooler follows the host", with(contended, sigPoolActive, peak(lv(2.125, 14.8), 20)), KindHostCPU},
		{"a full pool keeps its place", with(contended, sigPoolActive, peak(lv(2.125, 18), 20)), KindPoolerWait},
	}
	for _, c := range hostCases {
		t.Run(c.name, func(t *testing.T) {
			pf, ok := poolerFinding("pgbouncer", c.pool, nil, nil)
			if !ok {
				t.Fatal("no pooler finding")
			}
			fs := []Finding{pf, host}
			poolerFollowsCPU(fs, "pgbouncer", c.pool)
			if fs = rank(fs); fs[0].Kind != c.wantTop {
				t.Fatalf("top %s, want %s: %v", fs[0].Kind, c.wantTop, fs[len(fs)-1].Evidence.Facts)
			}
		})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pf, ok := poolerFinding("pgbouncer", c.pool, map[string]level{sigDBCPU: lv(0.1, 0.22)}, map[string]level{sigHostCores: lv(2, 2)})
			if !ok {
				t.Fatal("no pooler finding")
			}
			fs := []Finding{c.cpu, pf}
			poolerFollowsCPU(fs, "pgbouncer", c.pool)
			fs = rank(fs)
			if fs[0].Kind != c.wantTop {
				t.Fatalf("top %s (%.3f), want %s; pooler: %q", fs[0].Kind, fs[0].Score, c.wantTop, fs[len(fs)-1].Recommendation)
			}
			p := fs[0]
			if p.Kind != KindPoolerWait {
				p = fs[1]
			}
			if text := p.Recommendation + " " + strings.Join(p.Evidence.Facts, " "); !strings.Contains(text, c.wantText) {
				t.Errorf("pooler finding lacks %q:\n%s", c.wantText, text)
			}
			if c.wantTop == KindCPU {
				t.Logf("%s\n%s", strings.Join(p.Evidence.Facts, "\n"), p.Recommendation)
			}
		})
	}
}

// TestPoolerHoldWithNoConnectionSeenAtBaseline: make demo's readings
// where every baseline scrape saw 0 server connections in use (710
// transactions/s of about 1 ms each; read from that run's Prometheus:
// the last acceptable step, then the first unacceptable search step).
// PgBouncer's totals of time in transactions and of its clients' wait
// give the hold time all the same, and the pooler follows the service's
// CPU, or the host's; without those totals the rule cannot read a hold
// time, and the pooler's facts say why it kept its rank.
func TestPoolerHoldWithNoConnectionSeenAtBaseline(t *testing.T) {
	peak := func(l level, p float64) level { l.degPeak = p; return l }
	demo := map[string]level{
		sigPoolWaiting: peak(lv(0, 23.7), 121), sigPoolWaitTime: lv(0.0137, 3.55), sigPoolActive: peak(lv(0, 14.1), 20),
		sigPoolSize: lv(20, 20), sigPoolXacts: lv(711, 1010), sigPoolXactTime: lv(0.731, 11.38),
	}
	edit := func(sig string, l *level) map[string]level {
		out := map[string]level{}
		for k, v := range demo {
			out[k] = v
		}
		delete(out, sig)
		if l != nil {
			out[sig] = *l
		}
		return out
	}
	h, missing := poolerHold(demo)
	if missing != "" || h.baseMs < 0.99 || h.baseMs > 1.01 || h.degMs < 7.7 || h.degMs > 7.8 || !strings.Contains(h.how, "PgBouncer's time in transactions") {
		t.Fatalf("hold %+v (%s), want 1.0 ms → 7.75 ms from PgBouncer's totals", h, missing)
	}
	active := lv(0.5, 14.1)
	if h, _ := poolerHold(edit(sigPoolXactTime, nil)); h.baseMs != 0 {
		t.Fatalf("a hold time from no connection seen at baseline: %+v", h)
	}
	if h, missing := poolerHold(edit(sigPoolActive, &active)); missing != "" || h.how[:9] != "PgBouncer" {
		t.Fatalf("PgBouncer's totals are not preferred to Little's Law: %+v %s", h, missing)
	}
	noWait := edit(sigPoolWaitTime, nil)
	noWait[sigPoolActive] = active
	if h, missing := poolerHold(noWait); missing != "" || !strings.HasPrefix(h.how, "Little's Law") {
		t.Fatalf("without the wait total, not Little's Law: %+v %s", h, missing)
	}

	cpu := func(cores, schedDeg float64) Finding {
		r := Reading{Signal: SignalCPU, Resource: ResourceCPU, Available: true, Baseline: 0.97, Degraded: cores, HasBaseline: true,
			Context: map[string]Pair{AuxGOMAXPROCS: {Baseline: 2, Degraded: 2}, AuxSchedP99: {Baseline: 0.01, Degraded: schedDeg}}}
		a := assess(r)
		return Finding{Kind: KindCPU, Title: "service shop: cpu_usage: CPU cores used", Score: 0.815, Evidence: Evidence{Facts: a.facts, Signal: &r}}
	}
	hostSvc := &Reading{Signal: SignalCPU, Available: true, Baseline: 0.254, Degraded: 0.42, HasBaseline: true,
		Context: map[string]Pair{AuxGOMAXPROCS: {Baseline: 2, Degraded: 2}, AuxSchedP99: {Baseline: 0.031, Degraded: 0.039}}}
	host, ok := hostCPUFinding("host", map[string]level{sigHostBusy: lv(2.0, 1.98), sigHostCores: lv(2, 2)}, hostSvc)
	if !ok {
		t.Fatal("no host CPU finding")
	}
	slow := lv(0.731, 2.1) // with 0.6 s/s of wait: 1.5 ms a transaction, 1.5× the baseline
	cases := []struct {
		name     string
		pool     map[string]level
		other    Finding
		wantTop  FindingKind
		wantText string // in the pooler's facts or recommendation
	}{
		{"PgBouncer's totals: the pooler follows the service's CPU", demo, cpu(1.35, 0.115), KindCPU, "Do not raise pgbouncer's pool size first"},
		{"PgBouncer's totals: the pooler follows the host's CPU", demo, host, KindHostCPU, "it follows host_cpu"},
		{"no totals and no connection seen at baseline", edit(sigPoolXactTime, nil), cpu(1.35, 0.115), KindPoolerWait,
			"it is not read as following cpu_usage: its hold time per transaction could not be read: no baseline sample saw a server connection in use"},
		{"no transaction counter", edit(sigPoolXacts, nil), cpu(1.35, 0.115), KindPoolerWait, "the exporter has no transaction counter"},
		{"the hold time did not grow 3×", func() map[string]level {
			m := edit(sigPoolXactTime, &slow)
			m[sigPoolWaitTime] = lv(0.0137, 0.6)
			return m
		}(), cpu(1.35, 0.115), KindPoolerWait, "under 3× longer"},
		{"the service had CPU to spare", demo, cpu(0.6, 0.012), KindPoolerWait, "the service was not CPU-bound (0.60 cores used"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pf, ok := poolerFinding("pgbouncer", c.pool, map[string]level{sigDBCPU: lv(0.1, 0.25)}, map[string]level{sigHostCores: lv(2, 2)})
			if !ok {
				t.Fatal("no pooler finding")
			}
			fs := []Finding{pf, c.other}
			poolerFollowsCPU(fs, "pgbouncer", c.pool)
			fs = rank(fs)
			p := fs[0]
			if p.Kind != KindPoolerWait {
				p = fs[1]
			}
			text := p.Recommendation + "\n" + strings.Join(p.Evidence.Facts, "\n")
			if fs[0].Kind != c.wantTop {
				t.Fatalf("top %s (%.3f), want %s; pooler:\n%s", fs[0].Kind, fs[0].Score, c.wantTop, text)
			}
			if !strings.Contains(text, c.wantText) {
				t.Errorf("pooler finding lacks %q:\n%s", c.wantText, text)
			}
			t.Logf("%s", text)
		})
	}
}

// TestLocksBehindAPoolerQueue: the pgbouncer_pool scenario's readings (a
// pool shrunk to one connection: 30 clients waiting, 0.5 backends
// waiting for the counter row as the old connections finish) rank the
// pooler first; a hot row behind a pool of 20, where the lock queue is
// as long as the pooler's, keeps the locks first.
func TestLocksBehindAPoolerQueue(t *testing.T) {
	stmts := []stmtTime{{stmt: "UPDATE counters SET value = value + 1 WHERE name = 'orders' RETURNING pg_sleep(0.025)", baseMs: 25.7, degMs: 51.4}}
	cases := []struct {
		name             string
		waiting, lockers float64
		active, size     float64
		want             FindingKind
	}{
		{"pool of 1", 30, 0.5, 1.5, 1, KindPoolerWait},
		{"hot row behind a pool of 20", 40, 12, 20, 20, KindDBLocks},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pool := map[string]level{sigPoolWaiting: lv(0, c.waiting), sigPoolWaitTime: lv(0, 27.5), sigPoolActive: lv(1, c.active), sigPoolSize: lv(20, c.size)}
			db := map[string]level{sigDBLockWaits: lv(0, c.lockers)}
			pf, ok := poolerFinding("pgbouncer", pool, db, nil)
			if !ok {
				t.Fatal("no pooler finding")
			}
			fs := append(databaseFindings("postgres", db, nil, stmts), pf)
			locksBehindPooler(fs, pool, db)
			if fs = rank(fs); fs[0].Kind != c.want {
				t.Fatalf("top %s, want %s: %v", fs[0].Kind, c.want, fs[1].Evidence.Facts)
			}
		})
	}
}

// TestOneIndexServesBothStatements: the missing_index scenario's two
// statements on orders (a count over a date range, the latest five by
// date) propose (user_id, created_at) and (user_id, created_at DESC);
// whichever took longer in a run, there is one finding, for the index
// that keeps the sort, and it names both statements.
func TestOneIndexServesBothStatements(t *testing.T) {
	count := statementAdvice{time: stmtTime{count: 2, meanMs: 31.7, share: 0.45}, advice: pgexplain.Advice{
		Statement: "SELECT COUNT(*) FROM orders WHERE user_id = $1 AND created_at >= $2", Cost: 11023, CostWithIndex: 31.6, UsesIndex: true,
		Scan:  &pgexplain.Scan{Table: "orders", Rows: 402025, Filter: "((created_at >= $2) AND (user_id = $1))"},
		Index: &pgexplain.Index{Table: "orders", Columns: []string{"user_id", "created_at"}}}}
	latest := statementAdvice{time: stmtTime{count: 2, meanMs: 29.1, share: 0.43}, advice: pgexplain.Advice{
		Statement: "SELECT id FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 5", Cost: 10606, CostWithIndex: 21.1, UsesIndex: true,
		Scan:  &pgexplain.Scan{Table: "orders", Rows: 402250, Filter: "(user_id = $1)", SortKeys: []string{"created_at DESC"}},
		Index: &pgexplain.Index{Table: "orders", Columns: []string{"user_id", "created_at DESC"}}}}
	for _, order := range [][]statementAdvice{{count, latest}, {latest, count}} {
		fs := indexFindings("postgres", order)
		if len(fs) != 1 || !strings.HasSuffix(fs[0].Title, "index on orders (user_id, created_at DESC)") || len(fs[0].Evidence.Queries) != 2 ||
			!strings.Contains(strings.Join(fs[0].Evidence.Facts, " "), "the same index serves") {
			t.Fatalf("findings %+v", fs)
		}
	}
}
