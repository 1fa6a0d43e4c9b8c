package correlate

import (
	"github.com/headroom-sre/headroom/plan"
)

// The signal catalog of the plan's components (observe.components), per
// kind. Each signal lists the queries of the standard exporters as
// alternatives, the first with data wins: Debian's packaged exporters and
// prometheus-community's, which name some series differently. The
// component's selector is injected into every vector selector.
//
// A trap it avoids: under the postgres exporter's job,
// process_cpu_seconds_total is the exporter's own CPU, not PostgreSQL's; the
// database's CPU comes from process-exporter (or cAdvisor) only.

// Component signal names, as they appear in findings' evidence.
const (
	sigDBCPU          = "db_cpu"
	sigDBTransactions = "db_transactions"
	sigDBActive       = "db_active_backends"
	sigDBLockWaits    = "db_lock_waits"
	sigDBBlocksRead   = "db_blocks_read"
	sigDBHitRatio     = "db_cache_hit_ratio"
	sigDBDeadlocks    = "db_deadlocks"
	sigDBStatements   = "db_statement_time"
	sigPoolWaiting    = "pooler_clients_waiting"
	sigPoolWaitTime   = "pooler_wait_time"
	sigPoolActive     = "pooler_server_active"
	sigPoolSize       = "pooler_pool_size"
	sigPoolXacts      = "pooler_transactions"
	sigPoolXactTime   = "pooler_transaction_time"
	sigHostBusy       = "host_cpu_busy"
	sigHostCores      = "host_cores"
	sigHostIOWait     = "host_iowait"
	sigHostSteal      = "host_steal"
	sigHostDiskBusy   = "host_disk_busy"
	sigHostNetBytes   = "host_network_bytes"
	sigHostNetSpeed   = "host_network_speed"
	sigCacheHitRatio  = "cache_hit_ratio"
	sigCacheEvictions = "cache_evictions"
	sigSvcCPU         = "service_cpu"
	sigSvcServing     = "service_serving"
	sigSvcMaxProcs    = "service_gomaxprocs"
	sigSvcQueued      = "service_queued"
	sigDownLatency    = "downstream_p99"
)

// componentSignals is the catalog of one kind.
func componentSignals(kind plan.ComponentKind) []Signal {
	switch kind {
	case plan.KindDatabase:
		return []Signal{
			{Name: sigDBCPU, Title: "the database's own CPU", Unit: "cores", Queries: []string{
				`sum(irate(namedprocess_namegroup_cpu_seconds_total[$rate]))`, // prometheus-process-exporter
				`sum(irate(container_cpu_usage_seconds_total{container!=""}[$rate]))`,
			}},
			{Name: sigDBTransactions, Title: "transactions per second", Unit: "1/s", Queries: []string{
				`sum(irate(pg_stat_database_xact_commit[$rate])) + sum(irate(pg_stat_database_xact_rollback[$rate]))`,
			}},
			{Name: sigDBActive, Title: "backends running a statement", Unit: "count", Queries: []string{
				`sum(pg_lock_waits_active)`, `sum(pg_stat_activity_count{state="active"})`,
			}},
			{Name: sigDBLockWaits, Title: "backends waiting for a lock", Unit: "count", Queries: []string{
				`sum(pg_lock_waits_waiting)`, `sum(pg_stat_activity_count{wait_event_type="Lock"})`,
			}},
			{Name: sigDBBlocksRead, Title: "blocks read from disk per second", Unit: "1/s", Queries: []string{
				`sum(irate(pg_stat_database_blks_read[$rate]))`,
			}},
			{Name: sigDBHitRatio, Title: "buffer cache hit ratio", Unit: "ratio", Queries: []string{
				`sum(irate(pg_stat_database_blks_hit[$rate])) / (sum(irate(pg_stat_database_blks_hit[$rate])) + sum(irate(pg_stat_database_blks_read[$rate])))`,
			}},
			{Name: sigDBDeadlocks, Title: "deadlocks per second", Unit: "1/s", Queries: []string{
				`sum(irate(pg_stat_database_deadlocks[$rate]))`,
			}},
			{Name: sigDBStatements, Title: "statement execution time per second (pg_stat_statements)", Unit: "s/s", Queries: []string{
				`sum(irate(pg_stat_statements_seconds_total[$rate]))`,          // our queries file, prometheus-community's
				`sum(irate(pg_stat_statements_total_time_seconds[$rate]))`,     // older community names
				`sum(irate(pg_stat_statements_total_exec_time[$rate])) / 1000`, // milliseconds, as the view
			}},
		}
	case plan.KindPooler:
		return []Signal{
			{Name: sigPoolWaiting, Title: "clients waiting for a server connection", Unit: "count", Queries: []string{
				`sum(pgbouncer_pools_client_waiting_connections)`, // prometheus-community (and headroom's collector)
				`sum(pgbouncer_waiting_clients)`,                  // Debian's prometheus-pgbouncer-exporter
			}},
			{Name: sigPoolWaitTime, Title: "time clients waited per second", Unit: "s/s", Queries: []string{
				`sum(irate(pgbouncer_stats_client_wait_seconds_total[$rate]))`, // Debian's exporter has no wait-time counter
			}},
			{Name: sigPoolActive, Title: "server connections in use", Unit: "count", Queries: []string{
				`sum(pgbouncer_pools_server_active_connections)`, `sum(pgbouncer_active_clients)`,
			}},
			{Name: sigPoolSize, Title: "pool size", Unit: "count", Queries: []string{
				`sum(pgbouncer_databases_pool_size{database!="pgbouncer"})`, `sum(pgbouncer_pool_size)`,
			}},
			// With the server connections in use, Little's Law gives how long a
			// transaction holds one (PgBouncer's own transaction time counts
			// the client's wait for a connection too). Debian's exporter has
			// no transaction counter.
			{Name: sigPoolXacts, Title: "transactions per second through the pool", Unit: "1/s", Queries: []string{
				`sum(irate(pgbouncer_stats_sql_transactions_pooled_total[$rate]))`,
			}},
			// PgBouncer's own total of time in transactions (SHOW STATS
			// total_xact_time): with its clients' wait taken off, the time
			// transactions held server connections, measured, where sampled
			// server connections in use miss transactions shorter than a
			// scrape (make demo's baseline: 0 in use in every sample at 700
			// transactions/s of 0.9 ms each). Debian's exporter has none.
			{Name: sigPoolXactTime, Title: "time in transactions per second (PgBouncer's total, the clients' wait included)", Unit: "s/s", Queries: []string{
				`sum(irate(pgbouncer_stats_sql_transactions_duration_seconds_total[$rate]))`,
			}},
		}
	case plan.KindHost:
		return []Signal{
			{Name: sigHostBusy, Title: "host CPU cores busy", Unit: "cores", Queries: []string{
				`sum(irate(node_cpu_seconds_total{mode!="idle",mode!="iowait",mode!="steal"}[$rate]))`,
			}},
			{Name: sigHostCores, Title: "host cores", Unit: "count", Queries: []string{`count(node_cpu_seconds_total{mode="idle"})`}},
			{Name: sigHostIOWait, Title: "host CPU in iowait", Unit: "cores", Queries: []string{`sum(irate(node_cpu_seconds_total{mode="iowait"}[$rate]))`}},
			{Name: sigHostSteal, Title: "host CPU stolen by the hypervisor", Unit: "cores", Queries: []string{`sum(irate(node_cpu_seconds_total{mode="steal"}[$rate]))`}},
			{Name: sigHostDiskBusy, Title: "busiest disk's busy time", Unit: "ratio", Queries: []string{`max(irate(node_disk_io_time_seconds_total[$rate]))`}},
			{Name: sigHostNetBytes, Title: "network bytes per second", Unit: "B/s", Queries: []string{
				`sum(irate(node_network_receive_bytes_total{device!="lo"}[$rate])) + sum(irate(node_network_transmit_bytes_total{device!="lo"}[$rate]))`,
			}},
			{Name: sigHostNetSpeed, Title: "link speed", Unit: "B/s", Queries: []string{`sum(node_network_speed_bytes{device!="lo"}) > 0`}},
		}
	case plan.KindCache:
		return []Signal{
			{Name: sigCacheHitRatio, Title: "cache hit ratio", Unit: "ratio", Queries: []string{
				`sum(irate(redis_keyspace_hits_total[$rate])) / (sum(irate(redis_keyspace_hits_total[$rate])) + sum(irate(redis_keyspace_misses_total[$rate])))`,
				`sum(irate(memcached_commands_total{command="get",status="hit"}[$rate])) / sum(irate(memcached_commands_total{command="get"}[$rate]))`,
			}},
			{Name: sigCacheEvictions, Title: "evictions per second", Unit: "1/s", Queries: []string{
				`sum(irate(redis_evicted_keys_total[$rate]))`, `sum(irate(memcached_items_evicted_total[$rate]))`,
			}},
		}
	case plan.KindService:
		return serviceSignals()
	case plan.KindDownstream:
		return []Signal{
			{Name: sigDownLatency, Title: "p99 of calls to it", Unit: "s", Queries: []string{
				`histogram_quantile(0.99, sum by (le) (irate(http_client_request_duration_seconds_bucket[$rate])))`,
			}},
		}
	}
	return nil
}

// serviceSignals are read with observe.selector (the service under study)
// for the concurrency-cap rule.
func serviceSignals() []Signal {
	return []Signal{
		{Name: sigSvcCPU, Title: "the service's CPU", Unit: "cores", Queries: []string{
			`sum(irate(process_cpu_seconds_total[$rate]))`, `sum(irate(container_cpu_usage_seconds_total{container!=""}[$rate]))`,
		}},
		{Name: sigSvcServing, Title: "requests being served (queued ones excluded)", Unit: "count", Queries: []string{
			`sum(http_requests_in_flight) - sum(shop_capacity_queue_length)`,
			`sum(http_requests_in_flight)`, `sum(http_server_active_requests)`,
		}},
		{Name: sigSvcQueued, Title: "requests waiting for a slot", Unit: "count", Queries: []string{
			`sum(shop_capacity_queue_length)`,
		}},
		{Name: sigSvcMaxProcs, Title: "cores the service may use", Unit: "cores", Queries: []string{
			`sum(container_spec_cpu_quota{container!=""}) / sum(container_spec_cpu_period{container!=""})`,
			`sum(go_sched_gomaxprocs_threads)`,
		}},
	}
}
