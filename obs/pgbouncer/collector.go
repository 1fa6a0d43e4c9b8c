// Package pgbouncer is a small Prometheus collector for PgBouncer's admin
// console (SHOW POOLS, SHOW STATS, SHOW DATABASES), exporting the
// prometheus-community pgbouncer_exporter's metric names. It exists because
// Debian's prometheus-pgbouncer-exporter 1.7 crashes on Debian's PgBouncer
// 1.18 (KeyError 'total_requests': PgBouncer renamed the column) and the
// community exporter is not packaged.
//
//	c := pgbouncer.New("postgres://headroom@127.0.0.1:16432/pgbouncer?sslmode=disable")
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(c)
package pgbouncer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector reads PgBouncer's admin console on every scrape.
type Collector struct {
	dsn     string
	timeout time.Duration
	up      *prometheus.Desc
}

// New returns a collector for the admin console at dsn (database
// "pgbouncer", a user in admin_users or stats_users).
func New(dsn string) *Collector {
	return &Collector{dsn: dsn, timeout: 2 * time.Second,
		up: prometheus.NewDesc("pgbouncer_up", "1 when the last scrape of PgBouncer's admin console worked.", nil, nil)}
}

// gauge is one column of a SHOW command exported as a metric.
type column struct {
	show, col, name, help string
	counter               bool
	scale                 float64 // value × scale
}

var columns = []column{
	{"POOLS", "cl_active", "pgbouncer_pools_client_active_connections", "Client connections linked to a server connection.", false, 1},
	{"POOLS", "cl_waiting", "pgbouncer_pools_client_waiting_connections", "Client connections waiting for a server connection.", false, 1},
	{"POOLS", "sv_active", "pgbouncer_pools_server_active_connections", "Server connections linked to a client.", false, 1},
	{"POOLS", "sv_idle", "pgbouncer_pools_server_idle_connections", "Server connections idle and ready.", false, 1},
	{"POOLS", "sv_used", "pgbouncer_pools_server_used_connections", "Server connections idle more than server_check_delay.", false, 1},
	{"POOLS", "maxwait", "pgbouncer_pools_client_maxwait_seconds", "Age of the oldest waiting client (whole seconds).", false, 1},
	{"STATS", "total_xact_count", "pgbouncer_stats_sql_transactions_pooled_total", "Transactions pooled.", true, 1},
	{"STATS", "total_query_count", "pgbouncer_stats_queries_pooled_total", "Queries pooled.", true, 1},
	{"STATS", "total_query_time", "pgbouncer_stats_queries_duration_seconds_total", "Time spent by queries on server connections.", true, 1e-6},
	{"STATS", "total_xact_time", "pgbouncer_stats_sql_transactions_duration_seconds_total", "Time spent in transactions on server connections.", true, 1e-6},
	{"STATS", "total_wait_time", "pgbouncer_stats_client_wait_seconds_total", "Time clients waited for a server connection.", true, 1e-6},
	{"DATABASES", "pool_size", "pgbouncer_databases_pool_size", "Maximum server connections of the database's pools.", false, 1},
	{"DATABASES", "current_connections", "pgbouncer_databases_current_connections", "Server connections of the database.", false, 1},
}

func (c *Collector) desc(col column) *prometheus.Desc {
	labels := []string{"database"}
	if col.show == "POOLS" {
		labels = []string{"database", "user"}
	}
	return prometheus.NewDesc(col.name, col.help, labels, nil)
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	for _, col := range columns {
		ch <- c.desc(col)
	}
}

// Collect queries the admin console; when it cannot, it exports only
// pgbouncer_up 0.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	tables, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, col := range columns {
		d := c.desc(col)
		kind := prometheus.GaugeValue
		if col.counter {
			kind = prometheus.CounterValue
		}
		for _, row := range tables[col.show] {
			raw, ok := row[col.col]
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				continue
			}
			labels := []string{row["database"]}
			if col.show == "POOLS" {
				labels = append(labels, row["user"])
			}
			if col.show == "DATABASES" {
				labels = []string{row["name"]}
			}
			ch <- prometheus.MustNewConstMetric(d, kind, v*col.scale, labels...)
		}
	}
}

// read runs the SHOW commands and returns their rows as column → text.
func (c *Collector) read(ctx context.Context) (map[string][]map[string]string, error) {
	cfg, err := pgx.ParseConfig(c.dsn)
	if err != nil {
		return nil, fmt.Errorf("pgbouncer: dsn: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	out := map[string][]map[string]string{}
	for _, show := range []string{"POOLS", "STATS", "DATABASES"} {
		rows, err := conn.Query(ctx, "SHOW "+show)
		if err != nil {
			return nil, fmt.Errorf("SHOW %s: %w", show, err)
		}
		fields := rows.FieldDescriptions()
		for rows.Next() {
			row := map[string]string{}
			for i, raw := range rows.RawValues() {
				row[strings.ToLower(fields[i].Name)] = string(raw)
			}
			out[show] = append(out[show], row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("SHOW %s: %w", show, err)
		}
	}
	return out, nil
}

var _ prometheus.Collector = (*Collector)(nil)
