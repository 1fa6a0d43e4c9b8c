package obs_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/headroom-sre/headroom/obs"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// headroomBin builds cmd/headroom once per test binary (it serves the
// PgBouncer collector).
func headroomBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "headroom-obs-bin-")
		if err != nil {
			buildErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		builtBin, buildErr = obs.BuildHeadroom(ctx, dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestDBTierScrapedByPrometheus starts PostgreSQL, PgBouncer and the four
// exporters, has the stack's Prometheus scrape them, and checks the series
// correlation reads, that the recorded PIDs are the servers' own, and that
// traffic through PgBouncer reaches pg_stat_statements.
func TestDBTierScrapedByPrometheus(t *testing.T) {
	obs.Require(t)
	if err := obs.DBAvailable(); err != nil {
		t.Fatalf("precondition: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := tierDir(t)
	db, err := obs.StartDB(ctx, obs.DBConfig{Dir: filepath.Join(dir, "db"), Pool: 7, HeadroomBin: headroomBin(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Stop(); err != nil {
			t.Error(err)
		}
	})
	for _, name := range []string{"postgres", "pgbouncer"} {
		b, err := os.ReadFile(filepath.Join(dir, "db", name+".pid"))
		if err != nil {
			t.Fatal(err)
		}
		comm, err := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/comm")
		if err != nil {
			t.Fatalf("%s PID %s: %v", name, b, err)
		}
		if got := strings.TrimSpace(string(comm)); !strings.HasPrefix(got, name) {
			t.Errorf("%s.pid names a %q process, want the %s server itself", name, got, name)
		}
	}

	conn, err := sql.Open("pgx", db.PgBouncerDSN+"&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 20 {
		if _, err := conn.ExecContext(ctx, "SELECT "+strconv.Itoa(i)+" + count(*) FROM pg_class"); err != nil {
			t.Fatalf("query through PgBouncer: %v", err)
		}
	}
	var hypo int
	pg, err := sql.Open("pgx", db.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.QueryRowContext(ctx, "SELECT count(*) FROM pg_extension WHERE extname IN ('hypopg', 'pg_stat_statements')").Scan(&hypo); err != nil || hypo != 2 {
		t.Errorf("extensions hypopg and pg_stat_statements: %d of 2 (%v)", hypo, err)
	}

	stack := startStack(ctx, t, obs.Config{
		ScrapePostgres: []string{db.Postgres}, ScrapePgBouncer: []string{db.PgBouncer},
		ScrapeNode: []string{db.Node}, ScrapeProcess: []string{db.Process},
	})
	for _, q := range []string{
		`pgbouncer_databases_pool_size{job="pgbouncer",database="shop"} == 7`,
		`pgbouncer_pools_client_waiting_connections{job="pgbouncer",database="shop"}`,
		`pgbouncer_stats_client_wait_seconds_total{job="pgbouncer",database="shop"}`,
		`pg_stat_statements_calls{job="postgres",query=~"SELECT \\$1 \\+ count.*"} >= 20`,
		`pg_stat_database_xact_commit{job="postgres",datname="shop"}`,
		`pg_lock_waits_waiting{job="postgres"}`,
		`namedprocess_namegroup_cpu_seconds_total{job="process",groupname="postgres"}`,
		`namedprocess_namegroup_num_procs{job="process",groupname="postgres"} > 3`,
		`node_cpu_seconds_total{job="node",mode="iowait"}`,
	} {
		if err := stack.WaitForSeries(ctx, q); err != nil {
			t.Error(err)
		}
	}
}

// tierDir is a state folder the postgres user can enter (t.TempDir's parent
// is private to root), removed when t ends.
func tierDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "headroom-obs-db-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
