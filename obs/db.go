package obs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DBConfig says how to start the demo's database tier (scripts/obs-db-up):
// PostgreSQL with pg_stat_statements and HypoPG, PgBouncer in transaction
// pooling, and the exporters Prometheus scrapes.
type DBConfig struct {
	// Dir is the state folder (data folder, configs, PIDs, logs); required.
	Dir string
	// Pool is PgBouncer's default_pool_size; zero means 20.
	Pool int
	// NoExporters starts PostgreSQL and PgBouncer only.
	NoExporters bool
	// NoHypoPG leaves the hypopg extension uncreated (tests of its absence).
	NoHypoPG bool
	// HeadroomBin is the headroom binary that serves the PgBouncer
	// collector; empty means <root>/bin/headroom. BuildHeadroom builds one.
	HeadroomBin string
	// Root is the repository root holding scripts/; empty means found as
	// Start finds it.
	Root string
}

// DB is a running database tier started by StartDB.
type DB struct {
	// PostgresDSN reaches PostgreSQL directly (database "shop"); EXPLAIN
	// and HypoPG go through it.
	PostgresDSN string
	// PgBouncerDSN reaches database "shop" through PgBouncer: the shop's DSN.
	PgBouncerDSN string
	// PgBouncerAdminDSN is PgBouncer's admin console (SHOW POOLS, SET).
	PgBouncerAdminDSN string
	// Postgres, PgBouncer, Node and Process are the exporters' host:port
	// (empty with NoExporters): pass them to Config's Scrape fields.
	Postgres, PgBouncer, Node, Process string

	root, dir string
	stopOnce  sync.Once
	stopErr   error
}

var dbPortNames = []string{"OBS_DB_PG_PORT", "OBS_DB_PGB_PORT", "OBS_DB_PG_EXP_PORT", "OBS_DB_PGB_EXP_PORT", "OBS_DB_NODE_PORT", "OBS_DB_PROC_PORT"}

// StartDB runs scripts/obs-db-up on free loopback ports and returns once
// every part is ready. The caller must Stop it; if this process exits first,
// the tier stops itself about a second later.
func StartDB(ctx context.Context, cfg DBConfig) (*DB, error) {
	if cfg.Dir == "" {
		return nil, errors.New("obs: DBConfig.Dir is empty (tests pass t.TempDir())")
	}
	if cfg.Pool < 0 || cfg.Pool > 1000 {
		return nil, fmt.Errorf("obs: DBConfig.Pool %d is outside 0..1000", cfg.Pool)
	}
	root, err := findRoot(cfg.Root)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("obs: DBConfig.Dir %q: %w", cfg.Dir, err)
	}
	db := &DB{root: root, dir: dir}
	env := []string{"OBS_DB_DIR=" + dir, "OBS_STOP_WITH_PID=" + strconv.Itoa(os.Getpid())}
	if cfg.Pool > 0 {
		env = append(env, "OBS_DB_POOL="+strconv.Itoa(cfg.Pool))
	}
	if cfg.NoExporters {
		env = append(env, "OBS_DB_EXPORTERS=0")
	}
	if cfg.NoHypoPG {
		env = append(env, "OBS_DB_HYPOPG=0")
	}
	if cfg.HeadroomBin != "" {
		env = append(env, "HEADROOM_BIN="+cfg.HeadroomBin)
	}
	const attempts = 3
	for i := 1; ; i++ {
		ports, err := freePorts(len(dbPortNames))
		if err != nil {
			return nil, err
		}
		runEnv := append([]string{}, env...)
		for j, name := range dbPortNames {
			runEnv = append(runEnv, name+"="+strconv.Itoa(ports[j]))
		}
		out, err := db.script(ctx, "obs-db-up", runEnv)
		if err == nil {
			return db, db.readEnv()
		}
		_ = db.down()
		if i < attempts && strings.Contains(out, "already in use") && ctx.Err() == nil {
			continue
		}
		return nil, fmt.Errorf("obs: scripts/obs-db-up: %w\n%s", err, out)
	}
}

// readEnv fills the DSNs and targets from the db.env obs-db-up wrote.
func (db *DB) readEnv() error {
	b, err := os.ReadFile(filepath.Join(db.dir, "db.env"))
	if err != nil {
		return fmt.Errorf("obs: obs-db-up wrote no db.env: %w", err)
	}
	vals := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[k] = v
		}
	}
	db.PostgresDSN = vals["OBS_DB_POSTGRES_DSN"]
	db.PgBouncerDSN = vals["OBS_DB_PGBOUNCER_DSN"]
	db.PgBouncerAdminDSN = vals["OBS_DB_PGBOUNCER_ADMIN_DSN"]
	if vals["OBS_DB_EXPORTERS"] != "0" {
		db.Postgres, db.PgBouncer = vals["OBS_DB_SCRAPE_POSTGRES"], vals["OBS_DB_SCRAPE_PGBOUNCER"]
		db.Node, db.Process = vals["OBS_DB_SCRAPE_NODE"], vals["OBS_DB_SCRAPE_PROCESS"]
	}
	return nil
}

// Exporters are the names StopExporter takes.
var Exporters = []string{"postgres-exporter", "pgbouncer-exporter", "node-exporter", "process-exporter"}

// StopExporter stops one exporter by its recorded PID (tests of a tier with
// an exporter down); name is one of Exporters.
func (db *DB) StopExporter(name string) error {
	known := false
	for _, e := range Exporters {
		known = known || e == name
	}
	if !known {
		return fmt.Errorf("obs: no exporter %q (want one of %s)", name, strings.Join(Exporters, ", "))
	}
	pidFile := filepath.Join(db.dir, name+".pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("obs: %s: %w", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("obs: %s: PID file holds %q", name, b)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if err := p.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("obs: stopping %s (PID %d): %w", name, pid, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return os.Remove(pidFile)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.Kill()
	return os.Remove(pidFile)
}

// Stop stops the whole tier by its PIDs. It is safe to call more than once.
func (db *DB) Stop() error {
	db.stopOnce.Do(func() { db.stopErr = db.down() })
	return db.stopErr
}

func (db *DB) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := db.script(ctx, "obs-db-down", []string{"OBS_DB_DIR=" + db.dir}); err != nil {
		return fmt.Errorf("obs: scripts/obs-db-down: %w\n%s", err, out)
	}
	return nil
}

func (db *DB) script(ctx context.Context, name string, env []string) (string, error) {
	s := &Stack{root: db.root}
	return s.script(ctx, name, env)
}

// DBAvailable reports why the database tier cannot run here (packages
// missing), or nil; scripts/obs-db-deps installs what is missing.
func DBAvailable() error {
	root, err := findRoot("")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &Stack{root: root}
	if out, err := s.script(ctx, "obs-db-deps", []string{"OBS_DB_DEPS_CHECK=1"}); err != nil {
		return fmt.Errorf("obs: the database tier cannot run: %s", strings.TrimSpace(out))
	}
	return nil
}

// BuildHeadroom builds cmd/headroom into dir and returns the binary's path
// (the PgBouncer collector is one of its commands).
func BuildHeadroom(ctx context.Context, dir string) (string, error) {
	root, err := findRoot("")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "headroom")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/headroom")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("obs: go build ./cmd/headroom: %w\n%s", err, b)
	}
	return out, nil
}
