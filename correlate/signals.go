package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Signal is a named Prometheus query with the resource it measures. Its
// queries are templates: the plan's observe.selector is injected into
// every vector selector, and $rate is replaced by the rate window (three
// scrape intervals: the default queries use irate over it).
type Signal struct {
	Name     string   // catalog key, as in observe.signals: cpu_usage, pool_wait, …
	Title    string   // what it measures, for people
	Unit     string   // cores, ratio, bytes, s/s (seconds per second), count
	Resource string   // the resource a finding blames: cpu, pool, memory, gc, fds; "" for symptoms
	Queries  []string // alternatives for the value (Go, JVM, exporters): the first with data wins
	Context  []Aux    // related values read with it, used by its evidence and recommendation
}

// Aux is a named value read alongside a signal, such as a pool's maximum.
type Aux struct {
	Name    string
	Queries []string // alternatives, the first with data wins
}

// Catalog returns the default signals for Go services and common
// exporters, with the plan's observe.signals applied: an override replaces
// a signal's queries, an unknown name adds a custom signal.
func Catalog(overrides map[string]string) []Signal {
	sigs := defaultSignals()
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		q := strings.TrimSpace(overrides[n])
		if q == "" {
			continue
		}
		found := false
		for i := range sigs {
			if sigs[i].Name == n {
				sigs[i].Queries = []string{q}
				found = true
			}
		}
		if !found {
			sigs = append(sigs, Signal{Name: n, Title: n + " (from the plan)", Resource: ResourceCustom, Queries: []string{q}})
		}
	}
	return sigs
}

// rateWindow is the range of irate() over samples scraped every interval:
// three intervals, the narrowest that holds two samples even when a scrape
// comes late, so each value is the increase between two consecutive
// samples and a window of a few seconds is not blended with its
// neighbours.
func rateWindow(interval time.Duration) string { return promRange(rateSpan(interval)) }

func rateSpan(interval time.Duration) time.Duration {
	return max(3*interval, time.Second)
}

// promRange writes a duration as a PromQL range: whole seconds as 3s,
// finer ones in milliseconds.
func promRange(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// expand fills a template for one selector and scrape interval.
func expand(tmpl string, ms []Matcher, interval time.Duration) (string, error) {
	return InjectSelector(strings.ReplaceAll(tmpl, "$rate", rateWindow(interval)), ms)
}

func defaultSignals() []Signal {
	return []Signal{
		{
			Name: SignalCPU, Title: "CPU cores used", Unit: "cores", Resource: ResourceCPU,
			Queries: []string{
				`sum(irate(process_cpu_seconds_total[$rate]))`,
				`sum(irate(container_cpu_usage_seconds_total{container!=""}[$rate]))`,
			},
			Context: []Aux{
				{Name: AuxLimit, Queries: []string{
					`sum(container_spec_cpu_quota{container!=""}) / sum(container_spec_cpu_period{container!=""})`,
					`sum(kube_pod_container_resource_limits{resource="cpu"})`,
				}},
				{Name: AuxGOMAXPROCS, Queries: []string{`sum(go_sched_gomaxprocs_threads)`}},
				// How long runnable goroutines wait for a CPU: high when the
				// process is starved, whether by its own work or the host's.
				{Name: AuxSchedP99, Queries: []string{`histogram_quantile(0.99, sum by (le) (irate(go_sched_latencies_seconds_bucket[$rate])))`}},
			},
		},
		{
			Name: SignalThrottling, Title: "share of CPU periods throttled", Unit: "ratio", Resource: ResourceQuota,
			Queries: []string{
				`sum(irate(container_cpu_cfs_throttled_periods_total[$rate])) / sum(irate(container_cpu_cfs_periods_total[$rate]))`,
			},
			Context: []Aux{
				{Name: AuxThrottledSeconds, Queries: []string{`sum(irate(container_cpu_cfs_throttled_seconds_total[$rate]))`}},
				{Name: AuxQuota, Queries: []string{`sum(container_spec_cpu_quota{container!=""}) / sum(container_spec_cpu_period{container!=""})`}},
				{Name: AuxPeriod, Queries: []string{`max(container_spec_cpu_period{container!=""})`}}, // µs
				{Name: AuxUsage, Queries: []string{
					`sum(irate(container_cpu_usage_seconds_total{container!=""}[$rate]))`,
					`sum(irate(process_cpu_seconds_total[$rate]))`,
				}},
			},
		},
		{
			Name: SignalMemory, Title: "resident memory", Unit: "bytes", Resource: ResourceMemory,
			Queries: []string{
				`sum(process_resident_memory_bytes)`,
				`sum(container_memory_working_set_bytes{container!=""})`,
			},
			Context: []Aux{
				{Name: AuxHeap, Queries: []string{`sum(go_memstats_heap_alloc_bytes)`, `sum(jvm_memory_used_bytes{area="heap"})`}},
				{Name: AuxLimit, Queries: []string{`sum(container_spec_memory_limit_bytes{container!=""}) > 0`, `min(go_gc_gomemlimit_bytes) < 9e18`}},
			},
		},
		{
			Name: SignalGC, Title: "share of time in GC pauses", Unit: "s/s", Resource: ResourceGC,
			Queries: []string{
				`sum(irate(go_gc_duration_seconds_sum[$rate]))`,
				`sum(irate(jvm_gc_pause_seconds_sum[$rate]))`,
			},
			Context: []Aux{
				// Cores spent in GC (mark assists, background workers, pauses):
				// compared with the rise of cpu_usage it tells GC from plain work.
				{Name: AuxGCCores, Queries: []string{`sum(irate(go_cpu_classes_gc_total_cpu_seconds_total[$rate]))`}},
				{Name: AuxGCCPU, Queries: []string{`sum(irate(go_cpu_classes_gc_total_cpu_seconds_total[$rate])) / sum(irate(go_cpu_classes_total_cpu_seconds_total[$rate]))`}},
				{Name: AuxPauseP99, Queries: []string{
					`histogram_quantile(0.99, sum by (le) (irate(go_sched_pauses_total_gc_seconds_bucket[$rate])))`,
					`histogram_quantile(0.99, sum by (le) (irate(go_gc_pauses_seconds_bucket[$rate])))`,
				}},
				{Name: AuxGOMEMLIMIT, Queries: []string{`min(go_gc_gomemlimit_bytes) < 9e18`}},
				{Name: AuxCycles, Queries: []string{`sum(irate(go_gc_duration_seconds_count[$rate]))`, `sum(irate(jvm_gc_pause_seconds_count[$rate]))`}},
				{Name: AuxPauseMax, Queries: []string{`max(go_gc_duration_seconds{quantile="1"})`, `max(jvm_gc_pause_seconds_max)`}},
				{Name: AuxAllocRate, Queries: []string{`sum(irate(go_memstats_alloc_bytes_total[$rate]))`, `sum(irate(jvm_gc_memory_allocated_bytes_total[$rate]))`}},
				{Name: AuxGOGC, Queries: []string{`max(go_gc_gogc_percent)`}},
			},
		},
		{
			Name: SignalPoolWait, Title: "time spent waiting for a pooled connection", Unit: "s/s", Resource: ResourcePool,
			Queries: []string{
				`sum(irate(go_sql_wait_duration_seconds_total[$rate]))`,
				`sum(irate(pgbouncer_stats_client_wait_seconds_total[$rate]))`,
				`sum(irate(pgbouncer_client_wait_seconds[$rate]))`,
				`sum(irate(hikaricp_connections_pending_seconds_sum[$rate]))`,
			},
			Context: []Aux{
				{Name: AuxWaits, Queries: []string{`sum(irate(go_sql_wait_count_total[$rate]))`}},
				{Name: AuxPending, Queries: []string{`sum(hikaricp_connections_pending)`, `sum(pgbouncer_pools_client_waiting_connections)`}},
				{Name: AuxInUse, Queries: []string{`sum(go_sql_in_use_connections)`, `sum(hikaricp_connections_active)`}},
				{Name: AuxMax, Queries: []string{`sum(go_sql_max_open_connections) > 0`, `sum(hikaricp_connections_max)`}},
			},
		},
		{
			Name: SignalPoolInUse, Title: "pooled connections in use", Unit: "count", Resource: ResourcePool,
			Queries: []string{`sum(go_sql_in_use_connections)`, `sum(hikaricp_connections_active)`, `sum(pgbouncer_pools_server_active_connections)`},
			Context: []Aux{
				{Name: AuxMax, Queries: []string{`sum(go_sql_max_open_connections) > 0`, `sum(hikaricp_connections_max)`}},
			},
		},
		{
			Name: SignalGoroutines, Title: "goroutines or threads", Unit: "count",
			Queries: []string{`sum(go_goroutines)`, `sum(jvm_threads_live_threads)`},
			Context: []Aux{{Name: AuxThreads, Queries: []string{`sum(go_threads)`}}},
		},
		{
			Name: SignalOpenFDs, Title: "open file descriptors", Unit: "count", Resource: ResourceFDs,
			Queries: []string{`sum(process_open_fds)`},
			Context: []Aux{{Name: AuxMax, Queries: []string{`min(process_max_fds)`}}},
		},
		{
			Name: SignalHTTPInFlight, Title: "HTTP requests in flight", Unit: "count",
			Queries: []string{`sum(http_requests_in_flight)`, `sum(http_server_active_requests)`},
		},
	}
}
